/* SPDX-License-Identifier: MIT */
/* sqlerr.c -- SQLite at the boundary: its result codes as negative errno
 * (what the tracer's functions return), and statements run with SQLite's
 * message sent to the log hook.  Apart from schema.c so that the guard
 * (guard.c), which schema.c uses, does not call back into it.
 */
#include "tracer.h"
#include <errno.h>
#include <sqlite3.h>

int tr_sqlite_err(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK: case SQLITE_ROW: case SQLITE_DONE: return 0;
    case SQLITE_NOMEM: return -ENOMEM;
    case SQLITE_BUSY: case SQLITE_LOCKED: return -EBUSY;
    case SQLITE_READONLY: case SQLITE_PERM: case SQLITE_AUTH: return -EACCES;
    case SQLITE_CANTOPEN: return -ENOENT;
    case SQLITE_FULL: return -ENOSPC;
    case SQLITE_NOTADB: case SQLITE_CORRUPT: return -EILSEQ;
    case SQLITE_IOERR: return -EIO;
    default: return -EPROTO;
    }
}

int tr_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        tr_logf("sqlite: %s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
    }
    return tr_sqlite_err(rc);
}
