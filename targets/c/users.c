/*
 * users.c - a user's own library around a system one: a small user store
 * on the system libsqlite3 (Debian's: stripped, no debug info installed),
 * linked with -lsqlite3.  Every allocation happens inside libsqlite3; the
 * leaks are this wrapper's, and diagnosis must say so (README.md,
 * "Diagnosis"): update_user or label_user, not libsqlite3.so.0+0x....
 *
 * A request is op[1] id[1] name[0..32]: op 'U' renames user id, op 'L'
 * stores a label for it, anything else looks it up.  256 users (ids wrap),
 * names cut at 32 bytes: the database itself stops growing.
 *
 *   users_request_leaky  update_user prepares its statement on every call
 *                        and never finalizes it (sqlite keeps it on the
 *                        connection: reachable); label_user never
 *                        sqlite3_free()s the string sqlite3_mprintf made
 *   users_request_clean  the same requests done right, noisy the same way:
 *                        statements are prepared on first use of each of
 *                        16 variants and kept in a cache (reset, not
 *                        finalized), labels freed; cache and sqlite's page
 *                        cache fill up and plateau
 *   users_update_leaky, users_label_leaky
 *                        one leak each, whatever the request's op byte
 *   users_session_leaky  open_session leaks three blocks of ~1.5 KB, each
 *                        through another sqlite3 function
 *
 * Single-threaded, like the workloads that drive it.
 */
#include <sqlite3.h>
#include <string.h>

#include "lh_target.h"

#define NUSERS 256
#define NAME_MAX_LEN 32
#define NVARIANTS 16

static sqlite3 *db;

static int db_open(void)
{
    if (db)
        return 1;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK)
        return 0;
    return sqlite3_exec(db,
        "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT, label TEXT);"
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n "
        "WHERE i < 255) INSERT INTO users(id, name) SELECT i, 'user' FROM n;",
        NULL, NULL, NULL) == SQLITE_OK;
}

typedef struct request {
    int op, id;
    const char *name;
    int len;
} request;

static request parse(const uint8_t *data, size_t size)
{
    request r = { 0, 0, "", 0 };
    if (size > 0)
        r.op = data[0];
    if (size > 1)
        r.id = data[1] % NUSERS;
    if (size > 2) {
        r.name = (const char *)data + 2;
        r.len = (int)(size - 2 > NAME_MAX_LEN ? NAME_MAX_LEN : size - 2);
    }
    return r;
}

static void run(sqlite3_stmt *st)
{
    while (sqlite3_step(st) == SQLITE_ROW)
        ;
}

/* ---- the leaks ---------------------------------------------------------- */

/* The missing sqlite3_finalize: every call leaves one statement behind. */
__attribute__((noinline))
static void update_user(const request *r)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "UPDATE users SET name = ?1 WHERE id = ?2",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(st, 1, r->name, r->len, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, r->id);
    run(st);
    /* sqlite3_finalize(st) forgotten */
}

/* The statement is finalized; the label is never freed. */
__attribute__((noinline))
static void label_user(const request *r)
{
    char *label = sqlite3_mprintf("user %d: %.*s", r->id, r->len, r->name);
    sqlite3_stmt *st = NULL;
    if (!label || sqlite3_prepare_v2(db, "UPDATE users SET label = ?1 "
                                     "WHERE id = ?2", -1, &st,
                                     NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(st, 1, label, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, r->id);
    run(st);
    sqlite3_finalize(st);
    lh_escape(label);
    /* sqlite3_free(label) forgotten */
}

/* Three leaks of about the same size in one function, through three
 * library functions: a statement never finalized, a buffer from
 * sqlite3_malloc and a string from sqlite3_mprintf never freed.  None
 * holds half the growth; the function holds all of it. */
static void *volatile session_kept;

__attribute__((noinline))
static void open_session(const request *r)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT name FROM users WHERE id = ?1", -1,
                           &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int(st, 1, r->id);
        run(st);
    }
    char *buf = sqlite3_malloc(1400);
    char *token = sqlite3_mprintf("%0*d", 1400, r->id);
    session_kept = buf;
    session_kept = token;
}

/* ---- done right --------------------------------------------------------- */

/* Statements by kind and variant, prepared on first use and kept: the
 * cache grows to at most 3 x NVARIANTS statements and stays. */
static sqlite3_stmt *cache[3][NVARIANTS];

static sqlite3_stmt *cached(int kind, int variant)
{
    int k = kind == 'U' ? 0 : kind == 'L' ? 1 : 2;
    sqlite3_stmt **slot = &cache[k][variant % NVARIANTS];
    if (*slot)
        return *slot;
    char *sql = sqlite3_mprintf(
        k == 0 ? "UPDATE users SET name = ?1 WHERE id = ?2 /* %d */"
      : k == 1 ? "UPDATE users SET label = ?1 WHERE id = ?2 /* %d */"
               : "SELECT name, label FROM users WHERE id = ?1 /* %d */",
        variant % NVARIANTS);
    if (sql && sqlite3_prepare_v2(db, sql, -1, slot, NULL) != SQLITE_OK)
        *slot = NULL;
    sqlite3_free(sql);
    return *slot;
}

__attribute__((noinline))
static void update_user_cached(const request *r)
{
    sqlite3_stmt *st = cached('U', r->id);
    if (!st)
        return;
    sqlite3_bind_text(st, 1, r->name, r->len, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, r->id);
    run(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

__attribute__((noinline))
static void label_user_freed(const request *r)
{
    char *label = sqlite3_mprintf("user %d: %.*s", r->id, r->len, r->name);
    sqlite3_stmt *st = cached('L', r->id);
    if (label && st) {
        sqlite3_bind_text(st, 1, label, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, r->id);
        run(st);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    sqlite3_free(label);
}

__attribute__((noinline))
static void lookup_user(const request *r)
{
    sqlite3_stmt *st = cached('S', r->id);
    if (!st)
        return;
    sqlite3_bind_int(st, 1, r->id);
    run(st);
    sqlite3_reset(st);
}

/* ---- ops ------------------------------------------------------------- */

LH_EXPORT int users_request_leaky(const uint8_t *data, size_t size)
{
    request r = parse(data, size);
    if (!db_open())
        return 0;
    if (r.op == 'U')
        update_user(&r);
    else if (r.op == 'L')
        label_user(&r);
    else
        lookup_user(&r);
    return 0;
}

LH_EXPORT int users_request_clean(const uint8_t *data, size_t size)
{
    request r = parse(data, size);
    if (!db_open())
        return 0;
    if (r.op == 'U')
        update_user_cached(&r);
    else if (r.op == 'L')
        label_user_freed(&r);
    else
        lookup_user(&r);
    return 0;
}

LH_EXPORT int users_update_leaky(const uint8_t *data, size_t size)
{
    request r = parse(data, size);
    if (db_open())
        update_user(&r);
    return 0;
}

LH_EXPORT int users_label_leaky(const uint8_t *data, size_t size)
{
    request r = parse(data, size);
    if (db_open())
        label_user(&r);
    return 0;
}

LH_EXPORT int users_session_leaky(const uint8_t *data, size_t size)
{
    request r = parse(data, size);
    if (db_open())
        open_session(&r);
    return 0;
}
