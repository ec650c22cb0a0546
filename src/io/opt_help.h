/* opt_help.h - writes a command's option lines (lib/opt_table) to a stream: the one
 * place both programs turn their tables into --help text. */
#ifndef SO_IO_OPT_HELP_H
#define SO_IO_OPT_HELP_H

#include "lib/opt_table.h"

#include <stdio.h>

/* The rows of parts shown in group (0: every row), as opt_table_help formats them. */
void opt_help_print(FILE *f, const struct opt_table_part *parts, size_t nparts,
                    unsigned group);

#endif
