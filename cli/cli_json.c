/* SPDX-License-Identifier: MIT */
/* cli_json.c -- a JSON string writer for the commands that print JSON
 * (`coscope sql --json`, `coscope export`).  Bytes that are not valid UTF-8
 * become U+FFFD, so the output always parses: names, log lines and query
 * results come from the traced program. */
#include "cli.h"

void cli_json_string(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    fputc('"', f);
    while (*p) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') { fputc('\\', f); fputc(c, f); p++; continue; }
        if (c < 0x20) {
            switch (c) {
            case '\n': fputs("\\n", f); break;
            case '\t': fputs("\\t", f); break;
            case '\r': fputs("\\r", f); break;
            default: fprintf(f, "\\u%04x", c);
            }
            p++;
            continue;
        }
        if (c == 0x7f) { fputs("\\u007f", f); p++; continue; }
        if (c < 0x80) { fputc(c, f); p++; continue; }
        /* C1 controls (U+0080..U+009F, some terminals obey them): escaped,
         * which is the same string to a JSON reader. */
        if (c == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) { fprintf(f, "\\u%04x", p[1]); p += 2; continue; }
        /* The length a lead byte announces; overlong forms, surrogates and
         * code points past U+10FFFF are refused below. */
        int len = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
        int ok = len > 0;
        for (int k = 1; ok && k < len; k++) ok = (p[k] & 0xc0) == 0x80;
        if (ok && len == 3) ok = !(c == 0xe0 && p[1] < 0xa0) && !(c == 0xed && p[1] >= 0xa0);
        if (ok && len == 4) ok = !(c == 0xf0 && p[1] < 0x90) && !(c == 0xf4 && p[1] >= 0x90);
        if (!ok) { fputs("\\ufffd", f); p++; continue; }
        fwrite(p, 1, (size_t)len, f);
        p += len;
    }
    fputc('"', f);
}
