/* What the parts of repo_store.diff._speedups share (_speedups.c lists the parts). */
#ifndef PEERLEX_SPEEDUPS_H
#define PEERLEX_SPEEDUPS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

/* Tables by character cover the first code points: Latin, Greek and Cyrillic among them. */
#define TABLE_SIZE 0x800

/* A set of characters given as a str: a table for the first code points, the str for others. */
typedef struct {
    PyObject *chars;
    unsigned char table[TABLE_SIZE];
} CharSet;

void charset_load(CharSet *set, PyObject *chars);

static inline int
charset_has(const CharSet *set, Py_UCS4 c)
{
    if (c < TABLE_SIZE) return set->table[c];
    return PyUnicode_FindChar(set->chars, c, 0, PyUnicode_GET_LENGTH(set->chars), 1) >= 0;
}

/* The grammar blocks.py hands over once: configure, in _speedups_grammar.c, reads the fields
 * of grammar.GRAMMAR.  Strong references. */
typedef struct {
    PyObject *provision_match;   /* GRAMMAR.provision.match */
    PyObject *heading_match;     /* GRAMMAR.heading.match */
    PyObject *point_match;       /* GRAMMAR.point.match */
    PyObject *line_marker_match; /* GRAMMAR.line_marker.match: a marker at the start of a line */
    PyObject *keywords;          /* tuple of str */
    PyObject *provision_prefix;  /* dict: keyword.lower() -> id prefix */
    PyObject *grouping_prefixes; /* frozenset of prefixes that make a heading */
    PyObject *number_slug;       /* number_slug(number) -> str */
    PyObject *slugs;             /* the cache number_slug keeps: number -> slug */
    PyObject *unique_id;         /* unique_id(base, seen) -> str */
    PyObject *fold_whitespace;   /* fold_whitespace(text) -> str */
    PyObject *route_dict;        /* first character -> markers it may start */
    PyTypeObject *block_type;    /* Block, a named tuple of 8 fields */
    CharSet letters, number_ends, title_initials, title_punctuation;
    CharSet keyword_starts;      /* the first characters of the keywords */
    long try_heading, try_provision, try_point, try_bullet;
    unsigned char routes[TABLE_SIZE]; /* route_dict for the first code points */
    int configured;
} Grammar;

#define MAX_COMBINING_RANGES 16

/* The module's state (PEP 489): each module object made from this extension has its own. */
typedef struct {
    Grammar grammar;
    /* text.py's ranges of combining marks (configure_words); combining_count is -1 until then. */
    Py_UCS4 combining[MAX_COMBINING_RANGES][2];
    int combining_count;
    /* unusual[c]: 1 for a line break, 2 for a space, 4 for anything not printable (see
     * piece_text in _speedups_blocks.c). */
    unsigned char unusual[TABLE_SIZE];
    /* Strings made once, with the module (_speedups.c). */
    PyObject *str_empty, *str_newline, *str_space, *str_heading, *str_article, *str_paragraph,
        *str_item, *str_text, *name_span, *name_lastindex, *name_lower, *name_strip,
        *key_old_id, *key_new_id, *key_kind, *key_text, *key_tokens;
} State;

static inline State *
state_of(PyObject *module)
{
    return (State *)PyModule_GetState(module);
}

/* ROUTES.get(c, 0); -1 on error. */
long route_of(const State *st, Py_UCS4 c);

/* Whether a function that takes one str may run: its part is configured and text is a str
 * (else an exception is set). */
int ready_for(int is_configured, const char *configure_first, PyObject *text);

/* The grammar's references, for the module's traverse and clear (_speedups_grammar.c). */
int grammar_traverse(Grammar *grammar, visitproc visit, void *arg);
void grammar_clear(Grammar *grammar);

/* Markers (_speedups_markers.c). */
typedef enum { NO_MARKER, PROVISION, HEADING, POINT } MarkerKind;

typedef struct {
    MarkerKind kind;
    Py_ssize_t start, end;         /* the marker is text[start:end] */
    Py_ssize_t kw_start, kw_end;   /* PROVISION: its keyword */
    Py_ssize_t num_start, num_end; /* PROVISION, POINT: its number */
    int item;                      /* POINT: a lettered item (group inum), not a paragraph */
} Marker;

int read_provision(const State *st, PyObject *text, Py_ssize_t pos, Marker *m);
int read_heading(const State *st, PyObject *text, Marker *m);
int read_point(const State *st, PyObject *text, Marker *m);
int line_has_marker(const State *st, PyObject *text, Py_ssize_t pos);

static inline int
is_ascii_digit(Py_UCS4 c)
{
    return c >= '0' && c <= '9';
}

/* The tables of _speedups_blocks.c in a new module's state. */
void blocks_init(State *st);

/* The module's functions, by part. */
PyObject *configure(PyObject *module, PyObject *grammar);
PyObject *split_pieces(PyObject *module, PyObject *text);
PyObject *piece_spans(PyObject *module, PyObject *text);
PyObject *common_run(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *parse_pieces(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *configure_words(PyObject *module, PyObject *ranges);
PyObject *count_words(PyObject *module, PyObject *text);
PyObject *word_set(PyObject *module, PyObject *text);
PyObject *contains_any(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *untouched_entries(PyObject *module, PyObject *const *args, Py_ssize_t nargs);
PyObject *blocks_json(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

#endif
