# Thin wrapper over the README's two commands (scripts/demo.sh, scripts/test.sh) and CMake.
JOBS ?= 2

.PHONY: demo test build clean

demo:
	sh scripts/demo.sh

test:
	sh scripts/test.sh

build:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
	cmake --build build -j$(JOBS)

clean:
	rm -rf build build-asan build-fuzz
