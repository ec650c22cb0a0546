#include "io/opt_help.h"

#include <stdlib.h>

void opt_help_print(FILE *f, const struct opt_table_part *parts, size_t nparts,
                    unsigned group)
{
    size_t n = opt_table_help(parts, nparts, group, NULL, 0);
    char *text = malloc(n + 1);
    if (!text)
        return;
    opt_table_help(parts, nparts, group, text, n + 1);
    fputs(text, f);
    free(text);
}
