#include "sim/spiflash.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static enum so_err flush_range(struct spiflash *f, uint32_t addr, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = pwrite(f->fd, f->mem + addr + done, n - done, (off_t)(addr + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return SO_E_IO;
        done += (size_t)w;
    }
    return SO_OK;
}

enum so_err spiflash_open(struct spiflash *f, const char *path, char *err, size_t errcap)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        f->created = 1;
    }
    if (fd < 0) {
        snprintf(err, errcap, "cannot open flash file %s: %s", path, strerror(errno));
        return SO_E_IO;
    }
    f->mem = malloc(SPIFLASH_SIZE);
    if (!f->mem) {
        close(fd);
        return SO_E_NOMEM;
    }
    f->fd = fd;
    if (f->created) {
        memset(f->mem, 0xFF, SPIFLASH_SIZE);
        if (flush_range(f, 0, SPIFLASH_SIZE) != SO_OK) {
            snprintf(err, errcap, "cannot write flash file %s: %s", path, strerror(errno));
            spiflash_close(f);
            return SO_E_IO;
        }
        return SO_OK;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size != (off_t)SPIFLASH_SIZE) {
        snprintf(err, errcap, "flash file %s is not exactly 1 MiB (1048576 bytes)", path);
        spiflash_close(f);
        return SO_E_ARG;
    }
    size_t got = 0;
    while (got < SPIFLASH_SIZE) {
        ssize_t r = pread(fd, f->mem + got, SPIFLASH_SIZE - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            snprintf(err, errcap, "cannot read flash file %s", path);
            spiflash_close(f);
            return SO_E_IO;
        }
        got += (size_t)r;
    }
    return SO_OK;
}

void spiflash_close(struct spiflash *f)
{
    if (!f)
        return;
    if (f->fd >= 0) {
        (void)fsync(f->fd);
        close(f->fd);
    }
    free(f->mem);
    f->mem = NULL;
    f->fd = -1;
}

enum so_err spiflash_erase_sector(struct spiflash *f, unsigned sector)
{
    if (sector >= SPIFLASH_SIZE / SPIFLASH_SECTOR)
        return SO_E_ARG;
    memset(f->mem + sector * SPIFLASH_SECTOR, 0xFF, SPIFLASH_SECTOR);
    return flush_range(f, sector * SPIFLASH_SECTOR, SPIFLASH_SECTOR);
}

enum so_err spiflash_write(struct spiflash *f, uint32_t addr, const void *data, size_t n)
{
    size_t padded = (n + 3) & ~(size_t)3;
    if (addr % 4 || addr > SPIFLASH_SIZE || padded > SPIFLASH_SIZE - addr)
        return SO_E_ARG;
    const uint8_t *d = data;
    for (size_t i = 0; i < n; i++)
        f->mem[addr + i] &= d[i]; /* NOR: a write only clears bits */
    return flush_range(f, addr, padded);
}

const uint8_t *spiflash_view(const struct spiflash *f, uint32_t addr)
{
    return f->mem + addr;
}

/* System parameter record at SPIFLASH_SYS_PARAM: "SYSP", slot index (0 user1, 1 user2 as
 * system_upgrade_userbin_check returns), upgrade flag, then an XOR byte over those. */
#define SYSP_MAGIC "SYSP"

int spiflash_boot_slot(const struct spiflash *f, int *valid)
{
    const uint8_t *p = f->mem + SPIFLASH_SYS_PARAM;
    int ok = !memcmp(p, SYSP_MAGIC, 4) && p[4] <= 1 && p[7] == (uint8_t)(p[4] ^ p[5] ^ 0x5A);
    if (valid)
        *valid = ok;
    return ok ? p[4] + 1 : 1;
}

enum so_err spiflash_set_boot_slot(struct spiflash *f, int slot, int upgrade_flag)
{
    uint8_t rec[8] = {'S', 'Y', 'S', 'P', (uint8_t)(slot - 1), (uint8_t)upgrade_flag, 0, 0};
    rec[7] = (uint8_t)(rec[4] ^ rec[5] ^ 0x5A);
    /* The SDK rewrites the whole parameter sector (§5). */
    enum so_err e = spiflash_erase_sector(f, SPIFLASH_SYS_PARAM / SPIFLASH_SECTOR);
    return e ? e : spiflash_write(f, SPIFLASH_SYS_PARAM, rec, sizeof rec);
}

/* Provisioning record at SPIFLASH_STOCK_CFG: "PROV", port u16 LE, host[64], ssid[33]. */
#define PROV_MAGIC "PROV"
#define PROV_HOST 6
#define PROV_SSID (PROV_HOST + 64)
#define PROV_LEN (PROV_SSID + 36)

int spiflash_get_provision(const struct spiflash *f, char *host, size_t hostcap, int *port,
                           char *ssid, size_t ssidcap)
{
    const uint8_t *p = f->mem + SPIFLASH_STOCK_CFG;
    if (memcmp(p, PROV_MAGIC, 4))
        return -1;
    int pt = p[4] | p[5] << 8;
    const char *h = (const char *)p + PROV_HOST, *s = (const char *)p + PROV_SSID;
    if (!pt || !memchr(h, 0, 64) || !memchr(s, 0, 33) || !*h)
        return -1;
    snprintf(host, hostcap, "%s", h);
    snprintf(ssid, ssidcap, "%s", s);
    *port = pt;
    return 0;
}

enum so_err spiflash_set_provision(struct spiflash *f, const char *host, int port,
                                   const char *ssid)
{
    uint8_t rec[PROV_LEN];
    memset(rec, 0, sizeof rec);
    memcpy(rec, PROV_MAGIC, 4);
    rec[4] = (uint8_t)(port & 0xFF);
    rec[5] = (uint8_t)(port >> 8);
    snprintf((char *)rec + PROV_HOST, 64, "%s", host);
    snprintf((char *)rec + PROV_SSID, 33, "%s", ssid);
    enum so_err e = spiflash_erase_sector(f, SPIFLASH_STOCK_CFG / SPIFLASH_SECTOR);
    return e ? e : spiflash_write(f, SPIFLASH_STOCK_CFG, rec, sizeof rec);
}
