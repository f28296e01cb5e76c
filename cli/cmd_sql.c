/* SPDX-License-Identifier: MIT */
/* cmd_sql.c -- `coscope sql`: run SQL on a trace and print the rows as an
 * aligned table (default), CSV or JSON.  The stock sqlite3 shell reads the
 * same files; this exists so nothing else needs installing, so output is
 * aligned without dot-commands, and so scripts get clean CSV/JSON.
 *
 * The trace is opened read-only (and query_only), so a query can never
 * change a trace.  A query error prints SQLite's own message and exits 1.
 */
#define _GNU_SOURCE
#include "cli.h"
#include "../tracer/tracer.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char USAGE[] =
    "usage: coscope sql FILE QUERY [--csv|--json] [-p NAME=VALUE]...\n"
    "\n"
    "Run QUERY (one or more SQL statements) on the trace FILE, opened read-only,\n"
    "and print the rows.  Tables, views and ready-made queries: %s.\n"
    "\n"
    "  (default)            an aligned table with a header, then \"(N rows)\"; NULL\n"
    "                       shows empty, long cells are cut at 80 characters\n"
    "  --csv                RFC 4180 CSV with a header line; NULL is an empty field\n"
    "  --json               one JSON array of objects (column -> value) over all rows\n"
    "  -p, --param NAME=V   bind V to :NAME (also @NAME, $NAME) in QUERY; V is an\n"
    "                       integer, a real or else text.  Every parameter in QUERY\n"
    "                       must be given.\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit status: 0, 1 (the query failed: SQLite's message is printed), 2 (bad\n"
    "usage or a file that is not a readable coscope trace).\n"
    "\n"
    "examples:\n"
    "  coscope sql trace.db 'SELECT * FROM task_summary ORDER BY busy_ns DESC LIMIT 5'\n"
    "  coscope sql trace.db 'SELECT * FROM spans WHERE task = :task ORDER BY start' -p task=3\n";

enum { FMT_TABLE, FMT_CSV, FMT_JSON };

/* Where the schema page is: installed beside this binary's prefix
 * (PREFIX/bin/coscope -> PREFIX/share/doc/coscope/schema.md), or in the
 * source tree it was built from. */
static const char *schema_page(void)
{
    static char path[4200];
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            snprintf(path, sizeof path, "%s/../share/doc/coscope/schema.md", exe);
            if (access(path, R_OK) == 0) {
                char *real = realpath(path, NULL);
                if (real) {
                    snprintf(path, sizeof path, "%s", real);
                    free(real);
                }
                return path;
            }
        }
    }
    return "docs/schema.md in coscope's source tree";
}

/* Rows buffered to size the table's columns; later rows stream with those
 * widths, so a huge result never has to fit in memory. */
#define SAMPLE_ROWS 1000
/* Wider cells are cut (marked "...") in the table; --csv/--json never cut. */
#define MAX_CELL 80

/* Display columns of UTF-8 text, as the report and the TUI count them
 * (tr_width: a CJK character is two). */
static size_t width_of(const char *s)
{
    return (size_t)tr_width(s);
}

/* Text for the table: control characters shown as escapes (\n, \t, \r,
 * \x1b ...), so a value from the trace can never act on the terminal; then
 * invalid UTF-8 and C1 controls become '?' (tr_sanitize).  Cut at MAX_CELL
 * characters when cut is set.  Returns a malloc'd string or NULL. */
static char *shown(const char *s, int cut)
{
    size_t n = strlen(s);
    char *esc = malloc(n * 4 + 4);
    if (!esc) return NULL;
    size_t o = 0, w = 0;
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)s[k];
        if (cut && (c & 0xc0) != 0x80 && ++w > MAX_CELL) {
            memcpy(esc + o, "...", 3);
            o += 3;
            break;
        }
        if (c == '\n') { esc[o++] = '\\'; esc[o++] = 'n'; }
        else if (c == '\t') { esc[o++] = '\\'; esc[o++] = 't'; }
        else if (c == '\r') { esc[o++] = '\\'; esc[o++] = 'r'; }
        else if (c < 0x20 || c == 0x7f) o += (size_t)sprintf(esc + o, "\\x%02x", c);
        else esc[o++] = (char)c;
    }
    esc[o] = 0;
    char *out = malloc(3 * o + 1); /* tr_sanitize spells a bidi control as <U+202E>: 8 bytes for 3 */
    if (out) tr_sanitize(out, 3 * o + 1, esc);
    free(esc);
    return out;
}

/* A cell as the table shows it: escaped (shown), cut at MAX_CELL. */
static char *table_cell(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL) return strdup("");
    if (sqlite3_column_type(st, i) == SQLITE_BLOB) {
        int n = sqlite3_column_bytes(st, i);
        char *out = malloc(32);
        if (out) snprintf(out, 32, "<blob %d bytes>", n);
        return out;
    }
    const char *s = (const char *)sqlite3_column_text(st, i);
    return shown(s ? s : "", 1);
}

static void pad(size_t n)
{
    while (n--) putchar(' ');
}

/* Numbers right-aligned, like every table people read. */
static void print_cell(const char *s, size_t w, int right, int last)
{
    size_t sw = width_of(s);
    if (right) pad(w > sw ? w - sw : 0);
    fputs(s, stdout);
    if (!right && !last) pad(w > sw ? w - sw : 0);
}

typedef struct table {
    char **names;     /* column names as shown */
    int ncol;
    size_t *w;
    int *numeric;     /* 1 while every non-NULL sample value is a number */
    char **cells;     /* SAMPLE_ROWS x ncol */
    int nrows;
} table;

static void print_row(table *t, char **cells)
{
    for (int i = 0; i < t->ncol; i++) {
        if (i) fputs("  ", stdout);
        print_cell(cells[i] ? cells[i] : "", t->w[i], t->numeric[i], i == t->ncol - 1);
    }
    putchar('\n');
}

static void print_header(table *t, sqlite3_stmt *st)
{
    (void)st;
    for (int i = 0; i < t->ncol; i++) {
        if (i) fputs("  ", stdout);
        print_cell(t->names[i] ? t->names[i] : "", t->w[i], t->numeric[i], i == t->ncol - 1);
    }
    putchar('\n');
    for (int i = 0; i < t->ncol; i++) {
        if (i) fputs("  ", stdout);
        for (size_t k = 0; k < t->w[i]; k++) putchar('-');
    }
    putchar('\n');
}

static void csv_field(const char *s, int is_null)
{
    if (is_null) return;
    /* Exact bytes; quoted when they hold a separator, a quote or any
     * control character, so every field stays one field. */
    int plain = 1;
    for (const unsigned char *p = (const unsigned char *)s; *p && plain; p++)
        plain = *p != ',' && *p != '"' && *p >= 0x20 && *p != 0x7f;
    if (plain) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"') putchar('"');
        putchar(*s);
    }
    putchar('"');
}

/* A BLOB as "hex" (lower case, quoted), the same in --json and --csv: JSON
 * has no bytes type, CSV no way to mark one, and hex round-trips with
 * X'..' in SQL. */
static void blob_hex(sqlite3_stmt *st, int i)
{
    const unsigned char *b = sqlite3_column_blob(st, i);
    int n = sqlite3_column_bytes(st, i);
    putchar('"');
    for (int k = 0; k < n; k++) printf("%02x", b[k]);
    putchar('"');
}

static void json_value(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL: fputs("null", stdout); break;
    case SQLITE_INTEGER: printf("%lld", (long long)sqlite3_column_int64(st, i)); break;
    case SQLITE_FLOAT: {
        double v = sqlite3_column_double(st, i);
        if (isfinite(v)) printf("%.17g", v); else fputs("null", stdout);
        break;
    }
    case SQLITE_BLOB: blob_hex(st, i); break;
    default: cli_json_string(stdout, (const char *)sqlite3_column_text(st, i));
    }
}

/* Run one prepared statement in the chosen format.  Returns 0, or 1 after
 * printing SQLite's message. */
static int run_stmt(sqlite3 *db, sqlite3_stmt *st, int fmt, int *json_rows, int *printed_any)
{
    int ncol = sqlite3_column_count(st);
    int rc = SQLITE_DONE;
    if (ncol == 0) {
        /* Statements without rows (a PRAGMA setting, say): run them for effect. */
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {}
        goto done;
    }
    if (fmt == FMT_CSV) {
        if (*printed_any) putchar('\n');
        *printed_any = 1;
        for (int i = 0; i < ncol; i++) {
            if (i) putchar(',');
            csv_field(sqlite3_column_name(st, i), 0);
        }
        fputs("\r\n", stdout);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            for (int i = 0; i < ncol; i++) {
                if (i) putchar(',');
                int is_null = sqlite3_column_type(st, i) == SQLITE_NULL;
                if (sqlite3_column_type(st, i) == SQLITE_BLOB) {
                    blob_hex(st, i);   /* as --json writes it */
                    continue;
                }
                const char *s = is_null ? "" : (const char *)sqlite3_column_text(st, i);
                csv_field(s ? s : "", is_null);
            }
            fputs("\r\n", stdout);
        }
        goto done;
    }
    if (fmt == FMT_JSON) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            fputs(*json_rows ? ",\n{" : "\n{", stdout);
            (*json_rows)++;
            for (int i = 0; i < ncol; i++) {
                if (i) putchar(',');
                cli_json_string(stdout, sqlite3_column_name(st, i));
                putchar(':');
                json_value(st, i);
            }
            putchar('}');
        }
        goto done;
    }

    /* Table: sample rows for the widths, then stream. */
    table t = { calloc((size_t)ncol, sizeof(char *)), ncol, calloc((size_t)ncol, sizeof(size_t)),
                calloc((size_t)ncol, sizeof(int)), calloc((size_t)SAMPLE_ROWS * (size_t)ncol, sizeof(char *)), 0 };
    if (!t.names || !t.w || !t.numeric || !t.cells) {
        free(t.names); free(t.w); free(t.numeric); free(t.cells);
        fprintf(stderr, "coscope sql: out of memory\n");
        return 1;
    }
    for (int i = 0; i < ncol; i++) {
        const char *nm = sqlite3_column_name(st, i);
        t.names[i] = shown(nm ? nm : "", 0);
        t.w[i] = t.names[i] ? width_of(t.names[i]) : 0;
        t.numeric[i] = -1; /* unknown until a non-NULL value */
    }
    long long rows = 0;
    while (t.nrows < SAMPLE_ROWS && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        char **row = t.cells + (size_t)t.nrows * (size_t)ncol;
        for (int i = 0; i < ncol; i++) {
            int ty = sqlite3_column_type(st, i);
            if (ty != SQLITE_NULL) {
                int num = ty == SQLITE_INTEGER || ty == SQLITE_FLOAT;
                t.numeric[i] = t.numeric[i] == -1 ? num : t.numeric[i] && num;
            }
            row[i] = table_cell(st, i);
            size_t w = row[i] ? width_of(row[i]) : 0;
            if (w > t.w[i]) t.w[i] = w;
        }
        t.nrows++;
    }
    for (int i = 0; i < ncol; i++) if (t.numeric[i] == -1) t.numeric[i] = 0;
    if (t.nrows < SAMPLE_ROWS && rc != SQLITE_DONE) {
        /* The query failed before any output: print nothing of it. */
        for (size_t k = 0; k < (size_t)t.nrows * (size_t)ncol; k++) free(t.cells[k]);
        for (int i = 0; i < ncol; i++) free(t.names[i]);
        free(t.names); free(t.w); free(t.numeric); free(t.cells);
        goto done;
    }
    if (*printed_any) putchar('\n');
    *printed_any = 1;
    print_header(&t, st);
    for (int r = 0; r < t.nrows; r++) print_row(&t, t.cells + (size_t)r * (size_t)ncol);
    rows = t.nrows;
    if (t.nrows == SAMPLE_ROWS) {
        char **row = t.cells; /* reuse the first row's slots */
        for (int i = 0; i < ncol; i++) { free(row[i]); row[i] = NULL; }
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            for (int i = 0; i < ncol; i++) {
                row[i] = table_cell(st, i);
            }
            print_row(&t, row);
            for (int i = 0; i < ncol; i++) { free(row[i]); row[i] = NULL; }
            rows++;
        }
    }
    for (size_t k = 0; k < (size_t)t.nrows * (size_t)ncol; k++) free(t.cells[k]);
    for (int i = 0; i < ncol; i++) free(t.names[i]);
    free(t.names); free(t.w); free(t.numeric); free(t.cells);
    if (rc == SQLITE_DONE) printf("(%lld row%s)\n", rows, rows == 1 ? "" : "s");

done:
    if (rc != SQLITE_DONE) {
        fflush(stdout);
        fprintf(stderr, "coscope sql: %s\n", tr_db_errmsg(db));
        return 1;
    }
    return 0;
}

typedef struct param { const char *name, *value; size_t len; } param;

/* Bind every parameter of st from params; a parameter left unbound would
 * silently be NULL and match nothing, so it is an error instead. */
static int bind_params(sqlite3_stmt *st, const param *params, int nparams)
{
    int n = sqlite3_bind_parameter_count(st);
    for (int i = 1; i <= n; i++) {
        const char *pn = sqlite3_bind_parameter_name(st, i);
        const param *p = NULL;
        for (int k = 0; pn && k < nparams && !p; k++)
            if (strlen(pn + 1) == params[k].len && !strncmp(pn + 1, params[k].name, params[k].len)) p = &params[k];
        if (!p) {
            if (pn) fprintf(stderr, "coscope sql: query parameter %s has no value (give --param %s=VALUE)\n", pn, pn + 1);
            else fprintf(stderr, "coscope sql: positional parameters (?) cannot be given; use named ones (:name)\n");
            return 1;
        }
        char *end;
        long long iv = strtoll(p->value, &end, 10);
        if (*p->value && !*end) {
            sqlite3_bind_int64(st, i, iv);
            continue;
        }
        double dv = strtod(p->value, &end);
        if (*p->value && !*end) sqlite3_bind_double(st, i, dv);
        else sqlite3_bind_text(st, i, p->value, -1, SQLITE_STATIC);
    }
    return 0;
}

/* An argument that looks like an option.  Not getopt: a query may well
 * begin with "--" (an SQL comment), and a query is never a bare word, so
 * anything with whitespace in it is an operand. */
static int looks_like_option(const char *a)
{
    return a[0] == '-' && a[1] && !strpbrk(a, " \t\n\r");
}

int cli_sql(int argc, char **argv)
{
    int fmt = FMT_TABLE, nparams = 0, npos = 0, only_operands = 0;
    const char *pos[3] = { NULL, NULL, NULL };
    param *params = calloc((size_t)argc + 1, sizeof *params);
    if (!params) return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_operands || !looks_like_option(a)) {
            if (npos < 3) pos[npos] = a;
            npos++;
            continue;
        }
        if (!strcmp(a, "--")) { only_operands = 1; continue; }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf(USAGE, schema_page());
            free(params);
            return 0;
        }
        if (!strcmp(a, "--csv") || !strcmp(a, "--json")) {
            int want = a[2] == 'c' ? FMT_CSV : FMT_JSON;
            if (fmt != FMT_TABLE && fmt != want) {
                fprintf(stderr, "coscope sql: --csv and --json exclude each other\n");
                free(params);
                return 2;
            }
            fmt = want;
            continue;
        }
        const char *val = NULL;
        if (!strcmp(a, "-p") || !strcmp(a, "--param")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "coscope sql: %s needs NAME=VALUE (see coscope sql --help)\n", a);
                free(params);
                return 2;
            }
            val = argv[++i];
        } else if (!strncmp(a, "--param=", 8)) val = a + 8;
        else if (!strncmp(a, "-p", 2)) val = a + 2;
        if (!val) {
            fprintf(stderr, "coscope sql: unknown option '%s' (see coscope sql --help)\n", a);
            free(params);
            return 2;
        }
        const char *eq = strchr(val, '=');
        const char *nm = val[0] == ':' || val[0] == '@' || val[0] == '$' ? val + 1 : val;
        if (!eq || eq == nm) {
            fprintf(stderr, "coscope sql: --param wants NAME=VALUE, got '%s'\n", val);
            free(params);
            return 2;
        }
        /* Names are compared up to the '=', so argv stays untouched. */
        params[nparams++] = (param){ nm, eq + 1, (size_t)(eq - nm) };
    }
    if (npos != 2) {
        fprintf(stderr, "coscope sql: %s (usage: coscope sql FILE QUERY [--csv|--json] [-p NAME=VALUE])\n",
                npos < 1 ? "no trace file given" : npos < 2 ? "no query given" : "too many arguments; quote the query");
        free(params);
        return 2;
    }
    const char *path = pos[0], *sql = pos[1];
    tr_reader rd;
    sqlite3 *db = cli_open(&rd, "sql", path) == 0 ? rd.db : NULL;
    if (!db) {
        free(params);
        return 2;
    }
    /* Read-only, query_only, and an authorizer that allows reads only
     * (tr_db_guard): no query text can write a file or hang for good. */

    int status = 0, json_rows = 0, printed_any = 0;
    /* --json is one document: a query that fails part way must print
     * nothing on stdout (and exit 1), not "[]" or half an array that a
     * script would take for the result.  So the document is written to a
     * temporary file (any size) and copied out only when every statement
     * ran; stdout points there meanwhile, so the writers stay the same. */
    FILE *real_stdout = stdout, *json_tmp = NULL;
    if (fmt == FMT_JSON) {
        if (!(json_tmp = tmpfile())) {
            fprintf(stderr, "coscope sql: no temporary file for --json: %s\n", strerror(errno));
            tr_reader_close(&rd);
            free(params);
            return 1;
        }
        stdout = json_tmp;
        putchar('[');
    }
    const char *rest = sql;
    while (rest && *rest) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        if (sqlite3_prepare_v2(db, rest, -1, &st, &tail) != SQLITE_OK) {
            fflush(stdout);
            fprintf(stderr, "coscope sql: %s\n", tr_db_errmsg(db));
            status = 1;
            break;
        }
        rest = tail;
        if (!st) continue; /* whitespace or a comment */
        status = bind_params(st, params, nparams);
        if (!status) status = run_stmt(db, st, fmt, &json_rows, &printed_any);
        sqlite3_finalize(st);
        if (status) break;
    }
    if (fmt == FMT_JSON) {
        fputs(json_rows ? "\n]\n" : "]\n", stdout);
        stdout = real_stdout;
        int terr = fflush(json_tmp) != 0 || ferror(json_tmp) ? errno : 0;
        if (terr && !status) {
            fprintf(stderr, "coscope sql: writing the temporary --json file failed: %s\n", strerror(terr));
            status = 1;
        }
        if (!status) {
            rewind(json_tmp);
            char buf[1 << 16];
            size_t n;
            while ((n = fread(buf, 1, sizeof buf, json_tmp)) > 0) fwrite(buf, 1, n, stdout);
        }
        fclose(json_tmp);
    }
    tr_reader_close(&rd);
    free(params);
    int werr = fflush(stdout) != 0 ? errno : ferror(stdout) ? EIO : 0;
    if (werr) {
        fprintf(stderr, "coscope sql: writing the output failed: %s\n", strerror(werr));
        status = 1;
    }
    return status;
}
