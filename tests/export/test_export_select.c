/* Unit test of the Stan CSV --vars selector: columns, their order and CmdStan names, the
 * default, and malformed selectors refused with a message naming the item. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "store/export_select.h"

/* A run with tensors layer0.w (4, 3) and layer1.b (2), and 5 recorded points x 3 outputs. */
static bnn_export_run fake_run(bnn_export_block blocks[2])
{
    blocks[0] = (bnn_export_block){.name = "layer0.w", .var_name = "layer0_w", .offset = 0,
                                   .size = 12, .ndim = 2, .shape = {4, 3}};
    blocks[1] = (bnn_export_block){.name = "layer1.b", .var_name = "layer1_b", .offset = 12,
                                   .size = 2, .ndim = 1, .shape = {2}};
    return (bnn_export_run){.n_chain = 2, .n_params = 14, .fs_points = 5, .fs_outputs = 3,
                            .thin = 1, .blocks = blocks, .n_blocks = 2, .has_weights = 1,
                            .has_fs = 1};
}

static void names_of(const bnn_export_run *r, const bnn_export_selection *s, char *out, size_t len)
{
    out[0] = 0;
    for (size_t i = 0; i < s->n; i++) {
        char name[64];
        bnn_export_column_name(r, &s->col[i], name, sizeof name);
        strncat(out, i ? "," : "", len - strlen(out) - 1);
        strncat(out, name, len - strlen(out) - 1);
    }
}

static void test_columns_and_names(void **state)
{
    (void)state;
    bnn_export_block b[2];
    bnn_export_run r = fake_run(b);
    bnn_export_selection s;
    char names[512];
    assert_int_equal(bnn_export_select(&r, "layer0.w[1,*],p[3:5,2],layer1.b", &s), BNN_OK);
    names_of(&r, &s, names, sizeof names);
    assert_string_equal(names, "layer0_w.2.1,layer0_w.2.2,layer0_w.2.3,p.4.3,p.5.3,layer1_b.1,layer1_b.2");
    assert_int_equal(s.col[2].index, 5);      /* layer0.w[1,2]: row 1 of 3 columns */
    assert_int_equal(s.col[4].index, 4 * 3 + 2); /* p[4,2] */
    assert_true(s.col[3].fs && !s.col[0].fs && s.any_weight);
    bnn_export_selection_free(&s);
    assert_int_equal(bnn_export_select(&r, NULL, &s), BNN_OK); /* default: p[0:3,*] */
    assert_int_equal(s.n, 9);
    assert_false(s.any_weight);
    names_of(&r, &s, names, sizeof names);
    assert_string_equal(names, "p.1.1,p.1.2,p.1.3,p.2.1,p.2.2,p.2.3,p.3.1,p.3.2,p.3.3");
    bnn_export_selection_free(&s);
}

static void test_refusals(void **state)
{
    (void)state;
    bnn_export_block b[2];
    bnn_export_run r = fake_run(b);
    static const char *const bad[][2] = {
        {"layer2.w", "not a quantity"}, {"layer0.w[1]", "needs 2 indices"},
        {"layer0.w[1,2,3]", "needs 2 indices"}, {"p[5,*]", "outside"}, {"p[2:2,*]", "outside"},
        {"layer1.b[-1]", "is not *"}, {"layer1.b[1", "closing ]"}, {"p[*,*],", "empty item"},
        {"layer1.b[0:x]", "is not *"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bnn_export_selection s;
        assert_int_equal(bnn_export_select(&r, bad[i][0], &s), BNN_EINVAL);
        if (!strstr(bnn_last_error(), bad[i][1])) fail_msg("%s: '%s'", bad[i][0], bnn_last_error());
        assert_null(s.col);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_columns_and_names),
                                       cmocka_unit_test(test_refusals)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
