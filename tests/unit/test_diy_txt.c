/* Unit tests for src/lib/diy_txt.c (PROTOCOL.md §6, DIY14 §4.1: the _ewelink._tcp TXT
 * record, data1..data4 reassembly). Records are malloc'd to their exact length. */
#include "lib/diy_txt.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Builds rdata from NUL-separated strings in a C literal ("a=1\0b=2") of length n. */
static size_t mk(const char *strs, size_t n, uint8_t *out)
{
    size_t len = 0, i = 0;
    while (i < n) {
        size_t k = strlen(strs + i);
        out[len++] = (uint8_t)k;
        memcpy(out + len, strs + i, k);
        len += k;
        i += k + 1;
    }
    return len;
}

static enum so_err parse_exact(const uint8_t *rd, size_t n, struct diy_txt *t)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    if (n)
        memcpy(p, rd, n);
    enum so_err e = diy_txt_parse(p, n, t);
    free(p);
    return e;
}

#define LIT(s) s, sizeof(s) - 1

/* The record printed by ITEAD's mdns.py (DIY14 §4.3). */
static void itead_example(void **state)
{
    (void)state;
    uint8_t rd[600];
    size_t n = mk(LIT("txtvers=1\0id=1000806ace\0type=diy_plug\0apivers=1\0seq=853\0"
                      "data1={\"switch\":\"off\",\"startup\":\"off\",\"pulse\":\"off\","
                      "\"pulseWidth\":500,\"rssi\":-70}"), rd);
    struct diy_txt t;
    assert_int_equal(parse_exact(rd, n, &t), SO_OK);
    assert_int_equal(t.missing, 0);
    assert_string_equal(t.txtvers, "1");
    assert_string_equal(t.id, "1000806ace");
    assert_string_equal(t.type, "diy_plug");
    assert_string_equal(t.apivers, "1");
    assert_true(t.has_seq);
    assert_int_equal(t.seq, 853);
    assert_int_equal(t.encrypt, -1);
    assert_int_equal(t.n_parts, 1);
    assert_int_equal(t.data_err, SO_OK);
    assert_string_equal(t.st.sw, "off");
    assert_int_equal(t.st.pulse_width, 500);
    assert_true(t.st.has_rssi);
    assert_int_equal(t.st.rssi, -70);
    assert_int_equal(t.st.ota_unlock, -1);
    char line[128];
    diy_txt_summary(&t, line, sizeof line);
    assert_string_equal(line, "switch=off fw=? ota=? rssi=-70");
}

/* Data longer than 249 bytes is split over data1..data4 and joined again. */
static void build_split_join(void **state)
{
    (void)state;
    char data[700];
    int k = snprintf(data, sizeof data, "{\"switch\":\"on\",\"fwVersion\":\"3.6.0\","
                     "\"otaUnlock\":true,\"ssid\":\"x\",\"pad\":\"");
    for (; k < 600; k++)
        data[k] = (char)('a' + k % 26);
    strcpy(data + k, "\",\"rssi\":-55}");
    uint8_t rd[DIY_TXT_MAX];
    size_t n;
    struct diy_txt_rec rec = {.id = "1000abcdef", .seq = 4, .encrypt = -1, .data = data};
    assert_int_equal(diy_txt_build(&rec, rd, sizeof rd, &n), SO_OK);
    assert_true(n <= DIY_TXT_MAX);
    struct diy_txt t;
    assert_int_equal(parse_exact(rd, n, &t), SO_OK);
    assert_int_equal(t.missing, 0);
    assert_int_equal(t.n_parts, 3);
    assert_int_equal(t.data_len, strlen(data));
    assert_string_equal(t.data, data);
    assert_int_equal(t.data_err, SO_OK);
    assert_string_equal(t.st.fw_version, "3.6.0");
    assert_int_equal(t.st.ota_unlock, 1);
    assert_int_equal(t.st.rssi, -55);
    char line[128];
    diy_txt_summary(&t, line, sizeof line);
    assert_string_equal(line, "switch=on fw=3.6.0 ota=unlocked rssi=-55");
    /* exactly 249 bytes: one part; 250: two */
    char d249[251];
    memset(d249, 'x', 250);
    d249[249] = '\0';
    rec.data = d249;
    assert_int_equal(diy_txt_build(&rec, rd, sizeof rd, &n), SO_OK);
    assert_int_equal(parse_exact(rd, n, &t), SO_OK);
    assert_int_equal(t.n_parts, 1);
    assert_int_equal(t.data_err, SO_E_JSON);
    d249[249] = 'x';
    d249[250] = '\0';
    assert_int_equal(diy_txt_build(&rec, rd, sizeof rd, &n), SO_OK);
    assert_int_equal(parse_exact(rd, n, &t), SO_OK);
    assert_int_equal(t.n_parts, 2);
    assert_int_equal(t.data_len, 250);
    /* more than 4 parts, or a too small buffer */
    char huge[DIY_TXT_DATA_MAX + 2];
    memset(huge, 'y', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    rec.data = huge;
    assert_int_equal(diy_txt_build(&rec, rd, sizeof rd, &n), SO_E_TOOBIG);
    rec.data = "{}";
    assert_int_equal(diy_txt_build(&rec, rd, 20, &n), SO_E_TOOBIG);
    rec.id = NULL;
    assert_int_equal(diy_txt_build(&rec, rd, sizeof rd, &n), SO_E_ARG);
}

static void encrypted(void **state)
{
    (void)state;
    uint8_t rd[DIY_TXT_MAX];
    size_t n;
    struct diy_txt_rec rec = {.id = "1000abcdef", .seq = 1, .encrypt = 1,
                              .iv = "MTIzNDU2Nzg5MDEyMzQ1Ng==", .data = "q8Gm0wH2cXk="};
    assert_int_equal(diy_txt_build(&rec, rd, sizeof rd, &n), SO_OK);
    struct diy_txt t;
    assert_int_equal(parse_exact(rd, n, &t), SO_OK);
    assert_int_equal(t.encrypt, 1);
    assert_string_equal(t.iv, "MTIzNDU2Nzg5MDEyMzQ1Ng==");
    assert_int_equal(t.data_err, SO_E_ARG);
    char line[64];
    diy_txt_summary(&t, line, sizeof line);
    assert_string_equal(line, "data=encrypted");
    rec.encrypt = 0;
    rec.data = "{\"switch\":\"off\"}";
    assert_int_equal(diy_txt_build(&rec, rd, sizeof rd, &n), SO_OK);
    assert_int_equal(parse_exact(rd, n, &t), SO_OK);
    assert_int_equal(t.encrypt, 0);
    assert_int_equal(t.data_err, SO_OK);
}

static void lenient_and_strict(void **state)
{
    (void)state;
    uint8_t rd[600];
    struct diy_txt t;
    /* case-insensitive keys, first occurrence wins, booleans and empties skipped */
    size_t n = mk(LIT("ID=1000000001\0id=1000000002\0flag\0\0SEQ=7\0Data1={\"switch\":\"on\"}"), rd);
    assert_int_equal(parse_exact(rd, n, &t), SO_OK);
    assert_string_equal(t.id, "1000000001");
    assert_int_equal(t.seq, 7);
    assert_string_equal(t.st.sw, "on");
    assert_int_equal(t.missing, DIY_TXT_K_TXTVERS | DIY_TXT_K_TYPE | DIY_TXT_K_APIVERS);
    /* a gap in the parts */
    n = mk(LIT("id=1\0data1={\"a\":\0data3=1}"), rd);
    assert_int_equal(parse_exact(rd, n, &t), SO_OK);
    assert_int_equal(t.data_err, SO_E_SYNTAX);
    assert_int_equal(t.n_parts, 1);
    /* not JSON, wrong member type */
    n = mk(LIT("data1=hello"), rd);
    assert_int_equal(parse_exact(rd, n, &t), SO_OK);
    assert_int_equal(t.data_err, SO_E_JSON);
    assert_int_equal(t.missing & DIY_TXT_K_DATA1, 0);
    n = mk(LIT("data1={\"switch\":true}"), rd);
    assert_int_equal(parse_exact(rd, n, &t), SO_OK);
    assert_int_equal(t.data_err, SO_E_MSG_FIELD);
    assert_string_equal(t.st.sw, "");
    /* empty record */
    assert_int_equal(parse_exact(rd, 0, &t), SO_OK);
    assert_int_equal(t.missing, 0x3f);
    assert_int_equal(t.data_err, SO_E_ARG);
    /* a string running past the end */
    rd[0] = 10;
    memcpy(rd + 1, "id=12", 5);
    assert_int_equal(parse_exact(rd, 6, &t), SO_E_SYNTAX);
    /* bad seq, bad encrypt, NUL in a value, overlong id */
    n = mk(LIT("seq=12a"), rd);
    assert_int_equal(parse_exact(rd, n, &t), SO_E_SYNTAX);
    n = mk(LIT("encrypt=maybe"), rd);
    assert_int_equal(parse_exact(rd, n, &t), SO_E_SYNTAX);
    rd[0] = 5;
    memcpy(rd + 1, "id=1\0", 5);
    assert_int_equal(parse_exact(rd, 6, &t), SO_E_SYNTAX);
    n = mk(LIT("id=0123456789012345678901234"), rd);
    assert_int_equal(parse_exact(rd, n, &t), SO_E_TOOBIG);
    /* unknown keys are ignored */
    n = mk(LIT("data5=zz\0datax=1\0id=1000000003"), rd);
    assert_int_equal(parse_exact(rd, n, &t), SO_OK);
    assert_string_equal(t.id, "1000000003");
    assert_int_equal(t.n_parts, 0);
}

static void summary_truncates(void **state)
{
    (void)state;
    struct diy_txt t;
    assert_int_equal(diy_txt_parse(NULL, 0, &t), SO_OK);
    char small[8];
    size_t k = diy_txt_summary(&t, small, sizeof small);
    assert_int_equal(k, 7);
    assert_string_equal(small, "switch=");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(itead_example),
        cmocka_unit_test(build_split_join),
        cmocka_unit_test(encrypted),
        cmocka_unit_test(lenient_and_strict),
        cmocka_unit_test(summary_truncates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
