/* sonoff-sim - placeholder until the simulator lands (issue 3). */
#include <stdio.h>
int main(void)
{
    fprintf(stderr, "sonoff-sim: not built yet\n");
    return 1;
}
