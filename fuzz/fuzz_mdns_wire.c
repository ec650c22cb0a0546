/* fuzz_mdns_wire.c - libFuzzer target for src/lib/mdns_wire.c: never reads outside the
 * input (ASan), ends on every input (compression loops), and its verdict does not depend
 * on bytes after a message it accepted (appending a byte keeps SO_OK). */
#include "lib/mdns_wire.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum so_err e = mdns_wire_check(data, size);
    assert(e == SO_OK || e == SO_E_SYNTAX || e == SO_E_TOOBIG);
    if (e == SO_OK && size < MDNS_PACKET_MAX) {
        uint8_t *more = malloc(size + 1);
        assert(more);
        memcpy(more, data, size);
        more[size] = 0x5a;
        assert(mdns_wire_check(more, size + 1) == SO_OK);
        free(more);
    }
    return 0;
}
