/* SPDX-License-Identifier: MIT */
/* fuzz_model.c -- libFuzzer over the TUI's model (issue 24): the bytes are
 * a trace file (seeds: the samples' traces, and copies with escapes and
 * bidi controls in every text), opened by tui_model_open and asked every
 * question a view asks, at times before, across and after the run.  A
 * crash, a sanitizer report (clang's UBSan catches what gcc's misses:
 * pointer arithmetic on NULL), a hang (-timeout) or a text with a control
 * character in it is a finding. */
#include "fuzz.h"
#include "../tui/ask_model.h"

static void clean_text(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++)
        if (*p < 0x20 || *p == 0x7f) abort(); /* the model hands views sanitized text only */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_setup();
    fuzz_write("m.db", data, size);
    tui_model *m;
    char why[600];
    if (tui_model_open(&m, "m.db", NULL, NULL, why, sizeof why) < 0) {
        clean_text(why);
        return 0;
    }
    /* A few tasks and resources: the fuzzer's speed is in inputs, not rows. */
    ask_model(m, 8, "SELECT * FROM tasks LIMIT 20; SELECT name FROM resources LIMIT 20", clean_text);
    tui_model_close(m);
    return 0;
}
