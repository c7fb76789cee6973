#!/bin/bash
# Malformed data files given to `bnnmc sample --train/--test`: each must end the command with an
# error status and a message naming the file (and, for CSV, the line).
# usage: test_cli_bad_files.sh BNNMC [JSON_VALUE]
set -u
bnnmc=${1:?usage: $0 BNNMC}
. "$(dirname "$0")/cli_lib.sh"
d=$tmp

# Two features and a class label in the last column.
printf 'a,b,t\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n' >"$d/good.csv"
printf 'a,b,t\n1,2,0\n3,4,1,9\n5,6,0\n' >"$d/ragged.csv"
printf 'a,b,t\n1,2,0\n3,x,1\n5,6,0\n' >"$d/text.csv"
printf 'a,b,t\n1,2,0\n3,4,1\nNaN,6,0\n' >"$d/nan.csv"
printf 'a,b,t\n1,2,0\n3,4,1\n5,inf,0\n' >"$d/inf.csv"
printf 'a,b,t\n1,2,0\n3,4\n' >"$d/short-test.csv"

# IDX: 4 images of 2x2 pixels (16 bytes of data) cut after 5; labels 4 bytes cut after 1.
idx_images() { printf '\x00\x00\x08\x03\x00\x00\x00\x04\x00\x00\x00\x02\x00\x00\x00\x02'; }
idx_labels() { printf '\x00\x00\x08\x01\x00\x00\x00\x04'; }
{ idx_images; printf '\x01\x02\x03\x04\x05'; } >"$d/trunc-images.idx"
{ idx_labels; printf '\x00\x01\x00\x01'; } >"$d/labels.idx"
{ idx_images; printf '\x00%.0s' {1..16}; } >"$d/images.idx"
{ idx_labels; printf '\x00'; } >"$d/trunc-labels.idx"
{ idx_images; printf '\x00%.0s' {1..16}; } | gzip -c | head -c 20 >"$d/cut.idx.gz"

# .npy: a header whose dict is not Python literal syntax; a valid header with too little data.
npy() { # npy DICT: version 1.0 preamble, the dict padded with spaces and a newline to 64n bytes
    local dict=$1 len
    len=$(((10 + ${#dict} + 1 + 63) / 64 * 64 - 10))
    printf '\x93NUMPY\x01\x00'
    printf "\\x$(printf %02x $len)\\x00"
    printf '%-*s\n' $((len - 1)) "$dict"
}
npy "{'descr': <f8, 'fortran_order': False, 'shape': (4, 2), }" >"$d/bad-header.npy"
{ npy "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 2), }"; printf '\x00%.0s' {1..8}; } \
    >"$d/short-data.npy"
{ npy "{'descr': '<f8', 'fortran_order': False, 'shape': (4, 2), }"; printf '\x00%.0s' {1..64}; } \
    >"$d/x.npy"
f8_one='\x00\x00\x00\x00\x00\x00\xf0\x3f' f8_zero='\x00\x00\x00\x00\x00\x00\x00\x00'
{ npy "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }"; printf "$f8_zero$f8_one$f8_zero$f8_one"; } \
    >"$d/y.npy"

base=(--arch mlp:3 --warmup 2 --samples 2 --chains 1 --quiet --out "$d/run" --overwrite)
sample() { "$bnnmc" sample "${base[@]}" "$@"; }

# Controls: the well-formed files of each format are accepted.
expect_success "control: good CSV files are accepted" sample --train "$d/good.csv" --test "$d/good.csv"
expect_success "control: good IDX files are accepted" \
    sample --train "$d/images.idx,$d/labels.idx" --test "$d/images.idx,$d/labels.idx"
expect_success "control: good .npy files are accepted" \
    sample --train "$d/x.npy,$d/y.npy" --test "$d/good.csv"

expect_error "CSV ragged row" "ragged.csv:3:" -- sample --train "$d/ragged.csv" --test "$d/good.csv"
expect_error "CSV text cell" "text.csv:3:2" -- sample --train "$d/text.csv" --test "$d/good.csv"
expect_error "CSV NaN cell" "nan.csv:4:1" -- sample --train "$d/nan.csv" --test "$d/good.csv"
expect_error "CSV inf cell" "inf.csv:4:2" -- sample --train "$d/inf.csv" --test "$d/good.csv"
expect_error "CSV short row in the test file" "short-test.csv:3:" -- \
    sample --train "$d/good.csv" --test "$d/short-test.csv"
expect_error "CSV missing file" "missing.csv" -- sample --train "$d/missing.csv" --test "$d/good.csv"
expect_error "IDX truncated images" "trunc-images.idx" -- \
    sample --train "$d/trunc-images.idx,$d/labels.idx" --test "$d/good.csv"
expect_error "IDX truncated labels" "trunc-labels.idx" -- \
    sample --train "$d/images.idx,$d/trunc-labels.idx" --test "$d/good.csv"
expect_error "IDX cut gzip stream" "cut.idx.gz" -- \
    sample --train "$d/cut.idx.gz,$d/labels.idx" --test "$d/good.csv"
expect_error "npy bad header" "bad-header.npy" -- \
    sample --train "$d/bad-header.npy,$d/y.npy" --test "$d/good.csv"
expect_error "npy data shorter than its shape" "short-data.npy" -- \
    sample --train "$d/good.csv" --test "$d/short-data.npy,$d/y.npy"
finish
