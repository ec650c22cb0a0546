/* Placeholder until the stock flow lands (issue 3). */
#include "sonota/cmds.h"
#include <stdio.h>
int cmd_flash(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "sonota flash: not built yet\n");
    return EXIT_FAIL;
}
