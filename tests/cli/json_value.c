/* Test helper: reads JSON from stdin and prints the value at a path of object keys and array
 * indices (numbers %.17g, strings as is, arrays and objects as "array N" / "object N").
 * Exits 1 when the input does not parse or the path does not exist.
 * usage: json_value KEY_OR_INDEX... < FILE.json */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    json_error_t err;
    json_t *root = json_loadf(stdin, 0, &err);
    if (!root) {
        fprintf(stderr, "json_value: not JSON: line %d: %s\n", err.line, err.text);
        return 1;
    }
    json_t *v = root;
    for (int i = 1; v && i < argc; i++) {
        if (json_is_array(v)) {
            char *end;
            long k = strtol(argv[i], &end, 10);
            v = *end || k < 0 ? NULL : json_array_get(v, (size_t)k);
        } else {
            v = json_object_get(v, argv[i]);
        }
        if (!v) fprintf(stderr, "json_value: no '%s' at step %d of the path\n", argv[i], i);
    }
    int rc = 0;
    if (!v) rc = 1;
    else if (json_is_number(v)) printf("%.17g\n", json_number_value(v));
    else if (json_is_string(v)) printf("%s\n", json_string_value(v));
    else if (json_is_array(v)) printf("array %zu\n", json_array_size(v));
    else if (json_is_object(v)) printf("object %zu\n", json_object_size(v));
    else if (json_is_boolean(v)) printf("%s\n", json_is_true(v) ? "true" : "false");
    else printf("null\n");
    json_decref(root);
    return rc;
}
