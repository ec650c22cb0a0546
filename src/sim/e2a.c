#include "sim/e2a.h"

#include "io/log.h"
#include "sim/httpc.h"
#include "sim/netio.h"
#include "sim/powerloss.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define MAGIC_V1 0xE9
#define MAGIC_V2 0xEA
#define E2A_BLINK_MS 10000      /* 100 × 100 ms blinking before anything (§4) */
#define E2A_POLL_MS 500         /* FinalStage connect poll (§4) */
#define E2A_PROBE_TIMEOUT_MS 1000 /* one probe connect [?] */
#define E2A_HTTP_TIMEOUT_MS 5000 /* HTTPClient setTimeout(5000) (§4) */
#define E2A_RETRY 3
#define E2A_BUFFER 1024         /* write blocks (§4) */
#define E2A_STALL_MS 30000      /* the firmware waits forever; the sim calls it a hang */
#define UPGRADE_FLAG_START 1
#define UPGRADE_FLAG_FINISH 2

enum e2a_mode { MODE_UNKNOWN, MODE_FLASH_ROM1, MODE_FLASH_ROM2 };

/* Outcome of one downloadRomToFlash attempt. */
enum attempt { ATT_OK, ATT_RETRY, ATT_HANG };

struct rom_job {
    const char *path;
    int bootloader;          /* keep the first 4 KiB in RAM, write it at 0x0 last */
    uint8_t magic;
    uint32_t start, end;     /* write window */
    unsigned erase_from, erase_to; /* sectors [from, to) */
    const char *kind;        /* report */
    enum sim_pl pl;          /* --fault power-loss name of this download */
};

/* determineUpgradeRom(): the magic byte at 0x1000 and the running slot (§4). */
static enum e2a_mode determine_mode(struct sim_ctx *s, int rom)
{
    uint8_t magic = spiflash_view(&s->flash, 0x1000)[0];
    LOG_I("E2A: current rom %d, rom 1 magic byte 0x%02X", rom, magic);
    if (rom == 1 && magic == MAGIC_V2)
        return MODE_FLASH_ROM2;
    if (rom == 2 && magic == MAGIC_V2)
        return MODE_FLASH_ROM1;
    if (rom == 2 && magic == MAGIC_V1)
        return MODE_FLASH_ROM1; /* an interrupted final write left the app header (§4) */
    return MODE_UNKNOWN;
}

/* connectToWiFiBlocking(): open AP "FinalStage", then TCP connect to host:8080 every
 * 500 ms until it works (§4). The probe connection is closed right away. */
static int wait_final_stage(struct sim_ctx *s)
{
    const struct sim_opts *o = s->o;
    LOG_I("E2A: AP \"FinalStage\" up (open); polling %s:%d every %d ms", o->final_host,
          o->final_port, E2A_POLL_MS);
    int tries = 0;
    for (;;) {
        if (sim_sleep(s, E2A_POLL_MS) != 0)
            return -1;
        struct netio_conn c = NETIO_CONN_INIT;
        struct netio_params p = {.tls = SIM_TLS_NONE, .timeout_ms = E2A_PROBE_TIMEOUT_MS};
        char err[SIM_TEXT];
        tries++;
        if (netio_open(&c, o->final_host, o->final_port, &p, err, sizeof err) == SO_OK) {
            netio_close(&c);
            LOG_I("E2A: web server accessible after %d probes", tries);
            return 0;
        }
        LOG_D("E2A: waiting for connection (%s)", err);
    }
}

static enum attempt fail_attempt(struct sim_dl_rec *rec, const char *why)
{
    LOG_W("E2A: %s - retry", why);
    snprintf(rec->error, sizeof rec->error, "%s", why);
    return ATT_RETRY;
}

/* Reads exactly n bytes that are already announced by FIONREAD (stream->readBytes). */
static int read_exact(struct netio_conn *c, uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = netio_read(c, buf + got, n - got, E2A_HTTP_TIMEOUT_MS);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Waits until `want` bytes are available (or, with exact_len, exactly `len` remain) the
 * way the firmware's available() loop does; returns the count, or -1 for a hang. */
static long wait_available(struct netio_conn *c, long want, unsigned long len)
{
    long long last = plat_mono_ms();
    long prev = -1;
    for (;;) {
        long avail = netio_pending(c);
        if (avail >= want || (unsigned long)avail == len)
            return avail;
        if (avail != prev) {
            prev = avail;
            last = plat_mono_ms();
        }
        int closed = netio_wait_more(c, 50);
        if ((closed == 1 && netio_pending(c) == avail) || closed < 0 ||
            plat_mono_ms() - last > E2A_STALL_MS)
            return -1;
    }
}

static enum attempt download_rom(struct sim_ctx *s, const struct rom_job *j, int retry)
{
    const struct sim_opts *o = s->o;
    struct sim_dl_rec *rec = sim_dl_add(s, j->kind, j->path);
    long long t0 = plat_mono_ms();
    LOG_I("E2A: flashing (retry %d): http://%s:%d%s", retry, o->final_host, o->final_port,
          j->path);
    struct netio_conn c = NETIO_CONN_INIT;
    struct netio_params p = {.tls = SIM_TLS_NONE, .timeout_ms = E2A_HTTP_TIMEOUT_MS};
    char err[SIM_TEXT], req[512], head[SO_HTTP_HEAD_MAX];
    if (netio_open(&c, o->final_host, o->final_port, &p, err, sizeof err) != SO_OK)
        return fail_attempt(rec, err);
    /* Arduino core 2.3.0 HTTPClient with useHTTP10(true): no port in Host [?]. */
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: ESP8266HTTPClient\r\n"
                     "Connection: close\r\n\r\n", j->path, o->final_host);
    if (n < 0 || (size_t)n >= sizeof req || netio_write(&c, req, (size_t)n, E2A_HTTP_TIMEOUT_MS)) {
        netio_close(&c);
        return fail_attempt(rec, "cannot send the request");
    }
    /* Read the head only: the body stays in the socket for available()/readBytes(). */
    size_t have = 0;
    struct so_http_head h;
    long long deadline = plat_mono_ms() + E2A_HTTP_TIMEOUT_MS;
    enum so_err e = SO_AGAIN;
    while (e == SO_AGAIN && have < sizeof head) {
        ssize_t r = netio_read(&c, head + have, 1, (int)(deadline - plat_mono_ms()));
        if (r <= 0) {
            netio_close(&c);
            return fail_attempt(rec, r == -2 ? "read timeout" : "connection lost in the head");
        }
        have++;
        if (have >= 2 && head[have - 1] == '\n')
            e = so_http_parse_response(head, have, &h);
    }
    unsigned long long cl = 0;
    char why[SIM_TEXT];
    if (e != SO_OK || h.status != 200) {
        netio_close(&c);
        snprintf(why, sizeof why, "invalid response code (%d)", e == SO_OK ? h.status : -1);
        return fail_attempt(rec, why);
    }
    if (httpc_content_length(&h, &cl, why, sizeof why) != 0) {
        netio_close(&c);
        return fail_attempt(rec, why); /* getSize() = -1: "exceeds flash size" */
    }
    rec->bytes = 0;
    if (cl < 4096) {
        netio_close(&c);
        return fail_attempt(rec, "length too short");
    }
    if (cl > j->end - j->start) {
        netio_close(&c);
        snprintf(why, sizeof why, "length %llu exceeds flash size (%u)", cl,
                 (unsigned)(j->end - j->start));
        return fail_attempt(rec, why);
    }
    uint8_t first;
    if (wait_available(&c, 1, 1) < 0 || recv(c.fd, &first, 1, MSG_PEEK) != 1) {
        netio_close(&c);
        return fail_attempt(rec, "no body");
    }
    if (first != j->magic) {
        netio_close(&c);
        snprintf(why, sizeof why, "invalid magic byte 0x%02X (wants 0x%02X)", first, j->magic);
        return fail_attempt(rec, why);
    }
    unsigned long len = (unsigned long)cl;
    uint32_t addr = j->start;
    unsigned erase_from = j->erase_from;
    uint8_t bootrom[SPIFLASH_SECTOR], buf[E2A_BUFFER];
    if (j->bootloader) {
        if (wait_available(&c, SPIFLASH_SECTOR, len) < 0 ||
            read_exact(&c, bootrom, SPIFLASH_SECTOR)) {
            netio_close(&c);
            sim_fail(s, "E2A hangs waiting for the first 4096 bytes (power cycle needed)");
            return ATT_HANG;
        }
        erase_from++;
        addr += SPIFLASH_SECTOR;
        len -= SPIFLASH_SECTOR;
        rec->bytes += SPIFLASH_SECTOR;
    }
    LOG_I("E2A: erasing sectors %u-%u", erase_from, j->erase_to);
    if (j->erase_to > 0xFB)
        sim_note(s, "E2A erased sectors %u-%u as coded: RF cal (0xFB000), PHY init (0xFC000) "
                 "and system params (0xFD000-0xFFFFF) are wiped [?]", erase_from, j->erase_to - 1);
    for (unsigned sec = erase_from; sec < j->erase_to; sec++)
        spiflash_erase_sector(&s->flash, sec);
    while (len > 0) {
        long avail = wait_available(&c, E2A_BUFFER, len);
        if (avail < 0) {
            netio_close(&c);
            sim_fail(s, "E2A hangs: the server closed or stalled with %lu bytes of %s still "
                     "expected; the firmware spins on available() forever (power cycle "
                     "needed)", len, j->path);
            snprintf(rec->error, sizeof rec->error, "hang with %lu bytes missing", len);
            rec->ms = plat_mono_ms() - t0;
            return ATT_HANG;
        }
        size_t cnt = avail > E2A_BUFFER ? E2A_BUFFER : (size_t)avail;
        if (read_exact(&c, buf, cnt) != 0) {
            netio_close(&c);
            sim_fail(s, "E2A hangs: read failed (power cycle needed)");
            return ATT_HANG;
        }
        if (cnt > len) {
            netio_close(&c);
            sim_fail(s, "E2A: the server sent more than Content-Length; the length counter "
                     "wraps and the firmware spins forever (power cycle needed)");
            return ATT_HANG;
        }
        if (addr + cnt <= j->end)
            powerloss_write(s, j->pl, addr - j->start, addr, buf, cnt);
        if (addr + cnt > j->end || spiflash_write(&s->flash, addr, buf, cnt) != SO_OK) {
            netio_close(&c);
            sim_fail(s, "E2A: flash write outside the window");
            return ATT_HANG;
        }
        addr += (uint32_t)cnt;
        len -= cnt;
        rec->bytes += cnt;
    }
    netio_close(&c);
    if (j->bootloader) {
        /* Written last, after erasing sector 0: a cut here leaves no bootloader (§4). */
        spiflash_erase_sector(&s->flash, 0);
        powerloss_write(s, j->pl, 0, 0, bootrom, SPIFLASH_SECTOR);
        spiflash_write(&s->flash, 0, bootrom, SPIFLASH_SECTOR);
    }
    rec->ok = 1;
    rec->error[0] = '\0';
    rec->ms = plat_mono_ms() - t0;
    LOG_I("E2A: wrote %llu bytes in %lld ms", rec->bytes, rec->ms);
    return ATT_OK;
}

static enum attempt download_retry(struct sim_ctx *s, const struct rom_job *j)
{
    for (int r = 0; r < E2A_RETRY; r++) {
        enum attempt a = download_rom(s, j, r);
        if (a != ATT_RETRY)
            return a;
    }
    LOG_W("E2A: retry counter exceeded - giving up");
    return ATT_RETRY;
}

enum e2a_result e2a_run(struct sim_ctx *s, int rom)
{
    const struct sim_opts *o = s->o;
    LOG_I("E2A: initialising (blinking ~10 s)");
    if (sim_sleep(s, E2A_BLINK_MS) != 0) {
        sim_fail(s, "run timeout while E2A was starting");
        return E2A_END;
    }
    enum e2a_mode mode = determine_mode(s, rom);
    /* `if (upgrade == MODE_FLASH_ROM1 || MODE_FLASH_ROM2)` is always true: WiFi and
     * the FinalStage poll happen even when the mode is unknown (§4). */
    if (wait_final_stage(s) != 0) {
        sim_fail(s, "E2A: nobody answered on %s:%d before --timeout (FinalStage: the PC must "
                 "join the open AP and get that address; check the firewall)",
                 o->final_host, o->final_port);
        return E2A_END;
    }
    if (mode == MODE_UNKNOWN) {
        sim_fail(s, "E2A: ROM or Flash Mode not recognized (running user%d, byte at 0x1000 "
                 "0x%02X); the device idles", rom, spiflash_view(&s->flash, 0x1000)[0]);
        return E2A_END;
    }
    if (mode == MODE_FLASH_ROM2) {
        struct rom_job j = {o->final_path_user2, 0, MAGIC_V2, SPIFLASH_USER2, SPIFLASH_SIZE,
                            128, 256, "e2a-rom2", SIM_PL_ROM2};
        spiflash_set_boot_slot(&s->flash, rom, UPGRADE_FLAG_START);
        enum attempt a = download_retry(s, &j);
        if (a == ATT_HANG)
            return E2A_END;
        if (a != ATT_OK)
            return E2A_REBOOT; /* ESP.restart() */
        /* flag FINISH + system_upgrade_reboot(): the SDK boots the other slot. */
        spiflash_set_boot_slot(&s->flash, 2, UPGRADE_FLAG_FINISH);
        LOG_I("E2A: user2 written; system_upgrade_reboot() into user2");
        return sim_reached(s, SIM_STAGE_ROM2) ? E2A_END : E2A_REBOOT;
    }
    struct rom_job j = {o->final_path_final, 1, MAGIC_V1, 0, 0x80000, 0, 128, "e2a-final",
                        SIM_PL_FINAL};
    enum attempt a = download_retry(s, &j);
    if (a == ATT_HANG)
        return E2A_END;
    if (a == ATT_OK && sim_reached(s, SIM_STAGE_FINAL))
        return E2A_END;
    return E2A_REBOOT; /* ESP.restart() regardless of success (§4) */
}
