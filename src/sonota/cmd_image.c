/* Placeholder until the image toolkit lands (issue 2). */
#include "sonota/cmds.h"
#include <stdio.h>
int cmd_image(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "sonota image: not built yet\n");
    return EXIT_FAIL;
}
