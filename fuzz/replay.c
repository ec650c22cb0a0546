/* replay.c - runs a fuzz target's LLVMFuzzerTestOneInput on files, without libFuzzer,
 * so a crash found by clang reproduces under gcc, valgrind or a debugger:
 *   gcc -std=c11 -D_GNU_SOURCE -g -fsanitize=address,undefined -Isrc -I/usr/include/cjson \
 *       fuzz/replay.c fuzz/fuzz_http_head.c $(ls src/lib/[a-z]*.c) -lcjson -o replay_http_head
 *   ./replay_http_head crash-<hash> fuzz/corpus/http_head/[a-z]*
 * (meson also defines replay_<name> targets next to the fuzzers, not built by default). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return -1;
    }
    size_t got;
    while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                fclose(f);
                return -1;
            }
            buf = nb;
            cap *= 2;
        }
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        fprintf(stderr, "%s: read error\n", path);
        free(buf);
        return -1;
    }
    /* Exact-length copy, so ASan sees a read past the end as libFuzzer would. */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        free(buf);
        return -1;
    }
    if (len)
        memcpy(exact, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 0;
}

int main(int argc, char **argv)
{
    int failed = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (run_file(argv[i]) != 0)
            failed = 1;
        else
            fprintf(stderr, "ran %s\n", argv[i]);
    }
    return failed;
}
