/* The loops of the diff that run once per block of a document, compiled (docs/decisions.md).
 *
 * Each function here has its definition in Python, beside the code that uses it:
 * - blocks.py: split_pieces, piece_spans, common_run and parse_pieces (_split_pieces,
 *   _piece_spans, _common_run, _parse_pieces);
 * - text.py: count_words, word_set and contains_any (_count_words_in_python,
 *   _word_set_in_python, _contains_any_in_python);
 * - textdiff.py: untouched_entries and blocks_json (_untouched_entries_in_python,
 *   _blocks_json_in_python).
 * They take the same steps in the same order, with the patterns, tables and helpers that
 * blocks.py and text.py hand over once (configure, configure_words), and the tests check that
 * both give the same results.
 *
 * The usual forms of markers ("Статья 5.", "1. ", "а) ") are read here directly, and only where
 * the patterns are sure to read them the same way on their first try: a number of plain digits
 * followed by a mark that ends it.  Anything else is left to the patterns themselves.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* A set of characters given as a str: a table for the first code points, the str for others. */
#define TABLE_SIZE 0x800
typedef struct {
    PyObject *chars;
    unsigned char table[TABLE_SIZE];
} CharSet;

static int
charset_load(CharSet *set, PyObject *chars)
{
    memset(set->table, 0, sizeof(set->table));
    for (Py_ssize_t i = 0; i < PyUnicode_GET_LENGTH(chars); i++) {
        Py_UCS4 c = PyUnicode_READ_CHAR(chars, i);
        if (c < TABLE_SIZE) set->table[c] = 1;
    }
    Py_XSETREF(set->chars, Py_NewRef(chars));
    return 0;
}

static inline int
charset_has(const CharSet *set, Py_UCS4 c)
{
    if (c < TABLE_SIZE) return set->table[c];
    return PyUnicode_FindChar(set->chars, c, 0, PyUnicode_GET_LENGTH(set->chars), 1) >= 0;
}

/* What configure() hands over; strong references, set once. */
static PyObject *provision_match;   /* _PROVISION_RE.match */
static PyObject *heading_match;     /* _HEADING_RE.match */
static PyObject *point_match;       /* _POINT_RE.match */
static PyObject *line_marker_match; /* _LINE_MARKER_RE.match: a marker at the start of a line */
static PyObject *keywords;          /* _KEYWORDS: tuple of str */
static PyObject *provision_prefix;  /* dict: keyword.lower() -> id prefix */
static PyObject *grouping_prefixes; /* frozenset of prefixes that make a heading */
static PyObject *number_slug;       /* number_slug(number) -> str */
static PyObject *slugs;             /* the cache number_slug keeps: number -> slug */
static PyObject *unique_id;         /* _unique(base, seen) -> str */
static PyObject *fold_whitespace;   /* fold_whitespace(text) -> str */
static PyTypeObject *block_type;    /* Block, a named tuple of 8 fields */
static CharSet letters, number_ends, title_initials, title_punctuation;
static CharSet keyword_starts; /* the first characters of the keywords */
static long try_heading, try_provision, try_point, try_bullet;
static PyObject *route_dict;              /* _ROUTES: first character -> markers it may start */
static unsigned char routes[TABLE_SIZE]; /* the same for the first code points */
static unsigned char unusual[TABLE_SIZE]; /* see piece_text */
static int configured = 0;

static PyObject *str_empty, *str_newline, *str_space, *str_heading, *str_article,
    *str_paragraph, *str_item, *str_text, *name_span, *name_lastindex, *name_lower,
    *name_strip, *key_old_id, *key_new_id, *key_kind, *key_text, *key_tokens;

static PyObject *
configure(PyObject *module, PyObject *args)
{
    PyObject *provision_re, *heading_re, *point_re, *line_marker_re, *keyword_tuple;
    PyObject *route_dict_in, *prefixes, *grouping, *slug, *slug_cache, *unique, *fold;
    PyObject *letter_chars, *end_chars, *initial_chars, *punctuation_chars, *block, *bits;
    if (!PyArg_ParseTuple(args, "OOOOO!O!O!O!OO!OOUUUUO!O!:configure", &provision_re,
                          &heading_re, &point_re, &line_marker_re, &PyTuple_Type, &keyword_tuple,
                          &PyDict_Type, &route_dict_in, &PyDict_Type, &prefixes,
                          &PyFrozenSet_Type, &grouping, &slug, &PyDict_Type, &slug_cache,
                          &unique, &fold, &letter_chars, &end_chars, &initial_chars,
                          &punctuation_chars, &PyType_Type, &block, &PyTuple_Type, &bits)) {
        return NULL;
    }
    if (!PyArg_ParseTuple(bits, "llll:route bits", &try_heading, &try_provision, &try_point,
                          &try_bullet)) {
        return NULL;
    }
    if (!PyType_IsSubtype((PyTypeObject *)block, &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "Block must be a named tuple");
        return NULL;
    }
    PyObject *starts = PyUnicode_New(PyTuple_GET_SIZE(keyword_tuple), 0x10ffff);
    if (starts == NULL) return NULL;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(keyword_tuple); i++) {
        PyObject *keyword = PyTuple_GET_ITEM(keyword_tuple, i);
        if (!PyUnicode_Check(keyword) || PyUnicode_GET_LENGTH(keyword) == 0) {
            Py_DECREF(starts);
            PyErr_SetString(PyExc_TypeError, "keywords are non-empty strings");
            return NULL;
        }
        PyUnicode_WRITE(PyUnicode_KIND(starts), PyUnicode_DATA(starts), i,
                        PyUnicode_READ_CHAR(keyword, 0));
    }
    charset_load(&keyword_starts, starts);
    Py_DECREF(starts);
    memset(routes, 0, sizeof(routes));
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(route_dict_in, &pos, &key, &value)) {
        if (!PyUnicode_Check(key) || PyUnicode_GET_LENGTH(key) != 1 || !PyLong_Check(value)) {
            PyErr_SetString(PyExc_TypeError, "routes map single characters to ints");
            return NULL;
        }
        Py_UCS4 c = PyUnicode_READ_CHAR(key, 0);
        long route = PyLong_AsLong(value);
        if (route < 0 || route > 255) {
            PyErr_SetString(PyExc_ValueError, "routes are small ints");
            return NULL;
        }
        if (c < TABLE_SIZE) routes[c] = (unsigned char)route;
    }
    PyObject *patterns[4] = {provision_re, heading_re, point_re, line_marker_re}, *matches[4];
    for (int i = 0; i < 4; i++) {
        matches[i] = PyObject_GetAttrString(patterns[i], "match");
        if (matches[i] == NULL) {
            for (int k = 0; k < i; k++) Py_DECREF(matches[k]);
            return NULL;
        }
    }
    Py_XSETREF(provision_match, matches[0]);
    Py_XSETREF(heading_match, matches[1]);
    Py_XSETREF(point_match, matches[2]);
    Py_XSETREF(line_marker_match, matches[3]);
    Py_XSETREF(slugs, Py_NewRef(slug_cache));
    Py_XSETREF(keywords, Py_NewRef(keyword_tuple));
    Py_XSETREF(route_dict, Py_NewRef(route_dict_in));
    Py_XSETREF(provision_prefix, Py_NewRef(prefixes));
    Py_XSETREF(grouping_prefixes, Py_NewRef(grouping));
    Py_XSETREF(number_slug, Py_NewRef(slug));
    Py_XSETREF(unique_id, Py_NewRef(unique));
    Py_XSETREF(fold_whitespace, Py_NewRef(fold));
    Py_XSETREF(block_type, (PyTypeObject *)Py_NewRef(block));
    charset_load(&letters, letter_chars);
    charset_load(&number_ends, end_chars);
    charset_load(&title_initials, initial_chars);
    charset_load(&title_punctuation, punctuation_chars);
    configured = 1;
    Py_RETURN_NONE;
}

/* _ROUTES.get(c, 0); -1 on error. */
static long
route_of(Py_UCS4 c)
{
    if (c < TABLE_SIZE) return routes[c];
    PyObject *key = PyUnicode_FromOrdinal((int)c);
    PyObject *route = key ? PyDict_GetItemWithError(route_dict, key) : NULL; /* borrowed */
    Py_XDECREF(key);
    if (route == NULL) return PyErr_Occurred() ? -1 : 0;
    return PyLong_AsLong(route);
}

/* -- markers ------------------------------------------------------------------------------ */

typedef enum { NO_MARKER, PROVISION, HEADING, POINT } MarkerKind;

/* What a fast path knows: the pattern matches as read, it does not match, or ask it. */
typedef enum { FAST_UNSURE, FAST_MATCH, FAST_NONE } Fast;

typedef struct {
    MarkerKind kind;
    Py_ssize_t start, end;         /* the marker is text[start:end] */
    Py_ssize_t kw_start, kw_end;   /* PROVISION: its keyword */
    Py_ssize_t num_start, num_end; /* PROVISION, POINT: its number */
    int item;                      /* POINT: a lettered item (group inum), not a paragraph */
} Marker;

static inline int
is_ascii_digit(Py_UCS4 c)
{
    return c >= '0' && c <= '9';
}

/* match.span(g): where group g of a match starts and ends. */
static int
match_span(PyObject *match, Py_ssize_t g, Py_ssize_t *start, Py_ssize_t *end)
{
    PyObject *index = PyLong_FromSsize_t(g);
    PyObject *span = index ? PyObject_CallMethodOneArg(match, name_span, index) : NULL;
    Py_XDECREF(index);
    if (span == NULL) return -1;
    *start = PyLong_AsSsize_t(PyTuple_GET_ITEM(span, 0));
    *end = PyLong_AsSsize_t(PyTuple_GET_ITEM(span, 1));
    Py_DECREF(span);
    return PyErr_Occurred() ? -1 : 0;
}

/* The provision pattern at pos, where the answer is sure without it.  No keyword at pos: no
 * match.  A keyword, a space or none, one to five ASCII digits, then the end of the line, one
 * of number_ends, or a space before one of them or before a title initial: the pattern's first
 * try, which succeeds, since at such a stop none of its longer forms (5.1, 5-1, 5a, 5bis) can
 * go on and its look-ahead holds.  Anything else: unsure. */
static Fast
provision_fast(PyObject *text, Py_ssize_t pos, Marker *m)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    Py_UCS4 first = PyUnicode_READ_CHAR(text, pos);
    Py_ssize_t at = -1;
    if (!charset_has(&keyword_starts, first)) return FAST_NONE;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(keywords); i++) {
        PyObject *keyword = PyTuple_GET_ITEM(keywords, i);
        Py_ssize_t length = PyUnicode_GET_LENGTH(keyword);
        if (PyUnicode_READ_CHAR(keyword, 0) == first && pos + length <= n &&
            PyUnicode_Tailmatch(text, keyword, pos, pos + length, -1) == 1) {
            at = pos + length;
            break;
        }
    }
    if (at < 0) return FAST_NONE;
    m->kw_start = pos;
    m->kw_end = at;
    if (at < n && PyUnicode_READ_CHAR(text, at) == ' ') at++;
    Py_ssize_t digits = at;
    while (digits < n && digits - at < 6 && is_ascii_digit(PyUnicode_READ_CHAR(text, digits))) {
        digits++;
    }
    if (digits == at || digits - at > 5) return FAST_UNSURE;
    int stops = 0;
    if (digits == n) {
        stops = 1;
    }
    else {
        Py_UCS4 next = PyUnicode_READ_CHAR(text, digits);
        Py_UCS4 after = digits + 1 < n ? PyUnicode_READ_CHAR(text, digits + 1) : 0;
        if ((next == '.' || next == '-') && Py_UNICODE_ISDECIMAL(after)) {
            stops = 0; /* 5.1 or 5-1: the pattern reads on */
        }
        else if (next == '\n' || charset_has(&number_ends, next)) {
            stops = 1;
        }
        else if (next == ' ' && digits + 1 < n) {
            stops = charset_has(&number_ends, after) || charset_has(&title_initials, after);
        }
    }
    if (!stops) return FAST_UNSURE;
    m->kind = PROVISION;
    m->start = pos;
    m->end = digits;
    m->num_start = at;
    m->num_end = digits;
    return FAST_MATCH;
}

/* The provision pattern at pos: 1 with the marker, 0 without, -1 on error. */
static int
read_provision(PyObject *text, Py_ssize_t pos, Marker *m)
{
    Fast fast = provision_fast(text, pos, m);
    if (fast != FAST_UNSURE) return fast == FAST_MATCH;
    PyObject *match = pos ? PyObject_CallFunction(provision_match, "On", text, pos)
                          : PyObject_CallOneArg(provision_match, text);
    if (match == NULL) return -1;
    int found = match != Py_None;
    if (found && (match_span(match, 0, &m->start, &m->end) < 0 ||
                  match_span(match, 1, &m->kw_start, &m->kw_end) < 0 ||
                  match_span(match, 2, &m->num_start, &m->num_end) < 0)) {
        found = -1;
    }
    Py_DECREF(match);
    if (found == 1) m->kind = PROVISION;
    return found;
}

/* A Markdown heading, or a provision written as one ("## Статья 5"). */
static int
read_heading(PyObject *text, Marker *m)
{
    PyObject *match = PyObject_CallOneArg(heading_match, text);
    if (match == NULL) return -1;
    if (match == Py_None) {
        Py_DECREF(match);
        return 0;
    }
    Py_ssize_t start, end;
    int failed = match_span(match, 0, &start, &end);
    Py_DECREF(match);
    if (failed) return -1;
    if (end < PyUnicode_GET_LENGTH(text)) {
        int provision = read_provision(text, end, m);
        if (provision != 0) return provision;
    }
    m->kind = HEADING;
    m->start = start;
    m->end = end;
    return 1;
}

/* The point pattern at pos, where the answer is sure without it.  One to three ASCII digits
 * and "." or ")", then a space: a paragraph, as its second form reads it.  A letter and ")",
 * then a space: an item.  A character that starts none of its forms, or a letter that is not
 * followed by ")" and cannot start a Roman item number: no match.  Anything else: unsure. */
static Fast
point_fast(PyObject *text, Py_ssize_t pos, Marker *m)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    Py_ssize_t digits = pos;
    while (digits < n && digits - pos < 4 && is_ascii_digit(PyUnicode_READ_CHAR(text, digits))) {
        digits++;
    }
    if (digits > pos && digits - pos <= 3 && digits + 1 < n) {
        Py_UCS4 mark = PyUnicode_READ_CHAR(text, digits);
        if ((mark == '.' || mark == ')') && PyUnicode_READ_CHAR(text, digits + 1) == ' ') {
            m->kind = POINT;
            m->item = 0;
            m->start = m->num_start = pos;
            m->num_end = digits;
            m->end = digits + 1;
            return FAST_MATCH;
        }
    }
    if (digits > pos) return FAST_UNSURE;
    Py_UCS4 first = PyUnicode_READ_CHAR(text, pos);
    Py_UCS4 second = pos + 1 < n ? PyUnicode_READ_CHAR(text, pos + 1) : 0;
    if (charset_has(&letters, first)) {
        if (second == ')' && pos + 2 < n && PyUnicode_READ_CHAR(text, pos + 2) == ' ') {
            m->kind = POINT;
            m->item = 1;
            m->start = m->num_start = pos;
            m->num_end = pos + 1;
            m->end = pos + 2;
            return FAST_MATCH;
        }
        if (second != ')' && first != 'i' && first != 'v' && first != 'x') return FAST_NONE;
        return FAST_UNSURE;
    }
    if (first == '(' || Py_UNICODE_ISDECIMAL(first)) return FAST_UNSURE;
    return FAST_NONE;
}

static int
read_point(PyObject *text, Marker *m)
{
    Fast fast = point_fast(text, 0, m);
    if (fast != FAST_UNSURE) return fast == FAST_MATCH;
    PyObject *match = PyObject_CallOneArg(point_match, text);
    if (match == NULL) return -1;
    if (match == Py_None) {
        Py_DECREF(match);
        return 0;
    }
    /* Each form of the pattern has one group, which lastindex names: 1 to 3 for a paragraph
     * number, 4 for an item letter. */
    PyObject *last = PyObject_GetAttr(match, name_lastindex);
    Py_ssize_t group = last ? PyLong_AsSsize_t(last) : -1;
    Py_XDECREF(last);
    int failed = (group == -1 && PyErr_Occurred()) || match_span(match, 0, &m->start, &m->end) < 0;
    if (!failed && (group < 1 || group > 4)) {
        PyErr_SetString(PyExc_ValueError, "a point marker without a number");
        failed = 1;
    }
    failed = failed || match_span(match, group, &m->num_start, &m->num_end) < 0;
    Py_DECREF(match);
    if (failed) return -1;
    m->kind = POINT;
    m->item = group == 4;
    return 1;
}

/* -- blocks ------------------------------------------------------------------------------- */

/* An id: head + middle + tail, where tail is a str or, when NULL, the number.  Without a head
 * the middle loses its leading "__" ("para_2" at top level, "art_5__para_2" inside). */
static PyObject *
make_id(PyObject *head, const char *middle, PyObject *tail, Py_ssize_t number)
{
    char digits[32];
    if (head != NULL && PyUnicode_GET_LENGTH(head) == 0) head = NULL;
    if (head == NULL && middle[0] == '_' && middle[1] == '_') middle += 2;
    if (tail == NULL) snprintf(digits, sizeof(digits), "%zd", number);
    if ((head == NULL || PyUnicode_IS_ASCII(head)) && (tail == NULL || PyUnicode_IS_ASCII(tail))) {
        /* Ids are ASCII (number_slug spells numbers so): copy the bytes. */
        Py_ssize_t head_length = head ? PyUnicode_GET_LENGTH(head) : 0;
        Py_ssize_t middle_length = (Py_ssize_t)strlen(middle);
        Py_ssize_t tail_length = tail ? PyUnicode_GET_LENGTH(tail) : (Py_ssize_t)strlen(digits);
        PyObject *id = PyUnicode_New(head_length + middle_length + tail_length, 127);
        if (id == NULL) return NULL;
        Py_UCS1 *out = PyUnicode_1BYTE_DATA(id);
        if (head) memcpy(out, PyUnicode_1BYTE_DATA(head), head_length);
        memcpy(out + head_length, middle, middle_length);
        memcpy(out + head_length + middle_length, tail ? (const char *)PyUnicode_1BYTE_DATA(tail)
                                                       : digits,
               tail_length);
        return id;
    }
    return tail ? PyUnicode_FromFormat("%U%s%U", head ? head : str_empty, middle, tail)
                : PyUnicode_FromFormat("%U%s%s", head ? head : str_empty, middle, digits);
}

/* number_slug(number), without the call when the number is ASCII digits (most are). */
static PyObject *
slug_of(PyObject *number)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(number);
    int digits = n > 0 && PyUnicode_IS_ASCII(number);
    const Py_UCS1 *chars = digits ? PyUnicode_1BYTE_DATA(number) : NULL;
    for (Py_ssize_t i = 0; digits && i < n; i++) digits = is_ascii_digit(chars[i]);
    if (digits) return Py_NewRef(number);
    PyObject *known = PyDict_GetItemWithError(slugs, number); /* borrowed */
    if (known != NULL) return Py_NewRef(known);
    return PyErr_Occurred() ? NULL : PyObject_CallOneArg(number_slug, number);
}

/* base if seen does not have it, else _unique(base, seen); then seen.setdefault(id, 2). */
static PyObject *
claim_id(PyObject *base, PyObject *seen)
{
    int taken = PyDict_Contains(seen, base);
    if (taken < 0) return NULL;
    PyObject *id = taken ? PyObject_CallFunctionObjArgs(unique_id, base, seen, NULL)
                         : Py_NewRef(base);
    if (id == NULL) return NULL;
    PyObject *two = PyLong_FromLong(2);
    PyObject *kept = two ? PyDict_SetDefault(seen, id, two) : NULL;
    Py_XDECREF(two);
    if (kept == NULL) {
        Py_DECREF(id);
        return NULL;
    }
    return id;
}

/* A Block of eight new references, all stolen (also on failure). */
static PyObject *
make_block(PyObject *fields[8])
{
    PyObject *block = block_type->tp_alloc(block_type, 8);
    for (int i = 0; i < 8; i++) {
        if (block == NULL || fields[i] == NULL) {
            for (int k = i; k < 8; k++) Py_XDECREF(fields[k]);
            Py_XDECREF(block);
            return NULL;
        }
        PyTuple_SET_ITEM(block, i, fields[i]);
    }
    /* Strings and None only: the block can be in no reference cycle, so the cycle collector
     * need not look at it (it would untrack it on its first pass anyway, after a look). */
    PyObject_GC_UnTrack(block);
    return block;
}

/* The text of a piece on one line: newlines as spaces, folded when it has odd whitespace
 * (a run of spaces, or anything not printable, as the Python loop tests). */
static PyObject *
piece_text(PyObject *piece, int *has_newline)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(piece);
    const void *data = PyUnicode_DATA(piece);
    int newline = 0, fold = 0;
    /* unusual[c]: 1 for a line break, 2 for a space, 4 for anything not printable; most
     * characters are 0, which the loop passes with one look-up. */
#define SCAN(TYPE)                                                                          \
    {                                                                                       \
        const TYPE *chars = (const TYPE *)data;                                             \
        int previous_space = 0;                                                             \
        for (Py_ssize_t i = 0; i < n; i++) {                                                \
            Py_UCS4 c = chars[i];                                                           \
            int flags = c < TABLE_SIZE ? unusual[c] : (Py_UNICODE_ISPRINTABLE(c) ? 0 : 4);   \
            if (flags == 0) {                                                               \
                previous_space = 0;                                                         \
                continue;                                                                   \
            }                                                                               \
            newline |= flags & 1;                                                           \
            fold |= (flags & 4) || (flags & 3 && previous_space);                           \
            previous_space = flags & 3;                                                     \
        }                                                                                   \
    }
    switch (PyUnicode_KIND(piece)) {
    case PyUnicode_1BYTE_KIND: SCAN(Py_UCS1) break;
    case PyUnicode_2BYTE_KIND: SCAN(Py_UCS2) break;
    default: SCAN(Py_UCS4) break;
    }
#undef SCAN
    *has_newline = newline;
    PyObject *text = newline ? PyUnicode_Replace(piece, str_newline, str_space, -1)
                             : Py_NewRef(piece);
    if (text == NULL || !fold) return text;
    PyObject *folded = PyObject_CallOneArg(fold_whitespace, text);
    Py_DECREF(text);
    return folded;
}

/* text[end:].lstrip(title_punctuation): the title after a provision's number. */
static PyObject *
title_after(PyObject *text, Py_ssize_t end)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    while (end < n && charset_has(&title_punctuation, PyUnicode_READ_CHAR(text, end))) end++;
    return PyUnicode_Substring(text, end, n);
}

/* Where the outline lives while pieces are parsed. */
typedef struct {
    PyObject *container, *container_label, *paragraph; /* owned */
    Py_ssize_t unnumbered, bullets, headings;
} Outline;

static int
outline_load(Outline *o, PyObject *tuple)
{
    if (!PyTuple_Check(tuple) || PyTuple_GET_SIZE(tuple) != 6) {
        PyErr_SetString(PyExc_TypeError, "an outline is a tuple of six");
        return -1;
    }
    for (int i = 0; i < 3; i++) {
        if (!PyUnicode_Check(PyTuple_GET_ITEM(tuple, i))) {
            PyErr_SetString(PyExc_TypeError, "an outline starts with three strings");
            return -1;
        }
    }
    Py_XSETREF(o->container, Py_NewRef(PyTuple_GET_ITEM(tuple, 0)));
    Py_XSETREF(o->container_label, Py_NewRef(PyTuple_GET_ITEM(tuple, 1)));
    Py_XSETREF(o->paragraph, Py_NewRef(PyTuple_GET_ITEM(tuple, 2)));
    o->unnumbered = PyLong_AsSsize_t(PyTuple_GET_ITEM(tuple, 3));
    o->bullets = PyLong_AsSsize_t(PyTuple_GET_ITEM(tuple, 4));
    o->headings = PyLong_AsSsize_t(PyTuple_GET_ITEM(tuple, 5));
    return PyErr_Occurred() ? -1 : 0;
}

static PyObject *
outline_tuple(const Outline *o)
{
    PyObject *unnumbered = PyLong_FromSsize_t(o->unnumbered);
    PyObject *bullets = PyLong_FromSsize_t(o->bullets);
    PyObject *headings = PyLong_FromSsize_t(o->headings);
    PyObject *tuple = NULL;
    if (unnumbered && bullets && headings) {
        tuple = PyTuple_Pack(6, o->container, o->container_label, o->paragraph, unnumbered,
                             bullets, headings);
    }
    if (tuple != NULL) PyObject_GC_UnTrack(tuple); /* strings and ints, as for blocks */
    Py_XDECREF(unnumbered);
    Py_XDECREF(bullets);
    Py_XDECREF(headings);
    return tuple;
}

static void
outline_clear(Outline *o)
{
    Py_CLEAR(o->container);
    Py_CLEAR(o->container_label);
    Py_CLEAR(o->paragraph);
}

static int
append_size(PyObject *list, Py_ssize_t value)
{
    PyObject *number = PyLong_FromSsize_t(value);
    if (number == NULL) return -1;
    int failed = PyList_Append(list, number);
    Py_DECREF(number);
    return failed;
}

static PyObject *parse(PyObject *pieces, PyObject *outline_in, PyObject *seen,
                       PyObject *blocks, PyObject *renamed, PyObject *first,
                       PyObject *outlines);

/* A heading piece with lines under it: its first line and the rest are two pieces. */
static int
split_heading(PyObject *piece, Outline *o, PyObject *seen, PyObject *blocks, PyObject *renamed)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(piece);
    Py_ssize_t at = PyUnicode_FindChar(piece, '\n', 0, n, 1);
    PyObject *parts = PyList_New(0);
    PyObject *scratch_first = PyList_New(0), *scratch_outlines = PyList_New(0);
    PyObject *before = outline_tuple(o), *after = NULL;
    int failed = parts == NULL || scratch_first == NULL || scratch_outlines == NULL ||
                 before == NULL || at < 0;
    Py_ssize_t bounds[2][2] = {{0, at}, {at + 1, n}};
    for (int k = 0; k < 2 && !failed; k++) {
        PyObject *line = PyUnicode_Substring(piece, bounds[k][0], bounds[k][1]);
        PyObject *stripped = line ? PyObject_CallMethodNoArgs(line, name_strip) : NULL;
        Py_XDECREF(line);
        failed = stripped == NULL ||
                 (PyUnicode_GET_LENGTH(stripped) > 0 && PyList_Append(parts, stripped) < 0);
        Py_XDECREF(stripped);
    }
    if (!failed) {
        after = parse(parts, before, seen, blocks, renamed, scratch_first, scratch_outlines);
        failed = after == NULL || outline_load(o, after) < 0;
    }
    Py_XDECREF(parts);
    Py_XDECREF(scratch_first);
    Py_XDECREF(scratch_outlines);
    Py_XDECREF(before);
    Py_XDECREF(after);
    return failed ? -1 : 0;
}

/* Append the block of one piece (not a heading with lines under it); update the outline. */
static int
add_block(PyObject *text, long route, const Marker *marker, Outline *o, PyObject *seen,
          PyObject *blocks, PyObject *renamed)
{
    PyObject *base = NULL, *id = NULL, *block = NULL;
    Marker point;
    int failed = 1, is_point = 0;
    if (marker->kind == NO_MARKER && (route & try_point)) {
        is_point = read_point(text, &point);
        if (is_point < 0) return -1;
    }

    if (marker->kind == PROVISION) {
        PyObject *keyword = PyUnicode_Substring(text, marker->kw_start, marker->kw_end);
        PyObject *lowered = keyword ? PyObject_CallMethodNoArgs(keyword, name_lower) : NULL;
        Py_XDECREF(keyword);
        if (lowered == NULL) goto done;
        PyObject *prefix = PyDict_GetItemWithError(provision_prefix, lowered); /* borrowed */
        if (prefix == NULL && !PyErr_Occurred()) PyErr_SetObject(PyExc_KeyError, lowered);
        Py_DECREF(lowered);
        if (prefix == NULL) goto done;
        PyObject *number = PyUnicode_Substring(text, marker->num_start, marker->num_end);
        PyObject *slug = number ? slug_of(number) : NULL;
        base = slug ? make_id(prefix, "_", slug, 0) : NULL;
        Py_XDECREF(slug);
        id = base ? claim_id(base, seen) : NULL;
        int grouping = id ? PySet_Contains(grouping_prefixes, prefix) : -1;
        if (grouping < 0) {
            Py_XDECREF(number);
            goto done;
        }
        PyObject *label = PyUnicode_Substring(text, marker->start, marker->end);
        PyObject *fields[8] = {
            Py_NewRef(id),
            Py_NewRef(grouping ? str_heading : str_article),
            number,
            Py_XNewRef(label),
            title_after(text, marker->end),
            Py_NewRef(text),
            Py_NewRef(str_empty),
            Py_XNewRef(label),
        };
        block = make_block(fields);
        if (block == NULL) {
            Py_XDECREF(label);
            goto done;
        }
        Py_SETREF(o->container, Py_NewRef(id));
        Py_SETREF(o->container_label, label);
        Py_SETREF(o->paragraph, Py_NewRef(str_empty));
        o->unnumbered = o->bullets = 0;
    }
    else if (marker->kind == HEADING) {
        o->headings += 1;
        base = make_id(NULL, "h", NULL, o->headings);
        id = base ? claim_id(base, seen) : NULL;
        if (id == NULL) goto done;
        PyObject *fields[8] = {
            Py_NewRef(id),
            Py_NewRef(str_heading),
            Py_NewRef(Py_None),
            Py_NewRef(str_empty),
            PyUnicode_Substring(text, marker->end, PyUnicode_GET_LENGTH(text)),
            Py_NewRef(text),
            Py_NewRef(str_empty),
            Py_NewRef(str_empty),
        };
        block = make_block(fields);
        if (block == NULL) goto done;
        Py_SETREF(o->container, Py_NewRef(id));
        Py_SETREF(o->container_label, Py_NewRef(str_empty));
        Py_SETREF(o->paragraph, Py_NewRef(str_empty));
        o->unnumbered = o->bullets = 0;
    }
    else if (is_point) {
        PyObject *number = PyUnicode_Substring(text, point.num_start, point.num_end);
        PyObject *slug = number ? slug_of(number) : NULL;
        PyObject *parent = point.item && PyUnicode_GET_LENGTH(o->paragraph) ? o->paragraph
                                                                            : o->container;
        base = slug ? make_id(parent, point.item ? "__item_" : "__para_", slug, 0) : NULL;
        Py_XDECREF(slug);
        id = base ? claim_id(base, seen) : NULL;
        if (id == NULL) {
            Py_XDECREF(number);
            goto done;
        }
        PyObject *fields[8] = {
            Py_NewRef(id),
            Py_NewRef(point.item ? str_item : str_paragraph),
            number,
            PyUnicode_Substring(text, 0, point.end),
            Py_NewRef(str_empty),
            Py_NewRef(text),
            Py_NewRef(parent),
            Py_NewRef(o->container_label),
        };
        block = make_block(fields);
        if (block == NULL) goto done;
        if (!point.item) {
            Py_SETREF(o->paragraph, Py_NewRef(id));
            o->bullets = 0;
        }
    }
    else if ((route & try_bullet) && PyUnicode_GET_LENGTH(text) >= 2 &&
             PyUnicode_READ_CHAR(text, 1) == ' ') {
        PyObject *parent = PyUnicode_GET_LENGTH(o->paragraph) ? o->paragraph : o->container;
        o->bullets += 1;
        base = make_id(parent, "__li", NULL, o->bullets);
        id = base ? claim_id(base, seen) : NULL;
        if (id == NULL) goto done;
        PyObject *fields[8] = {
            Py_NewRef(id),
            Py_NewRef(str_item),
            Py_NewRef(Py_None),
            PyUnicode_Substring(text, 0, 1),
            Py_NewRef(str_empty),
            Py_NewRef(text),
            Py_NewRef(parent),
            Py_NewRef(o->container_label),
        };
        block = make_block(fields);
        if (block == NULL) goto done;
    }
    else {
        o->unnumbered += 1;
        base = make_id(o->container, "__p", NULL, o->unnumbered);
        id = base ? claim_id(base, seen) : NULL;
        if (id == NULL) goto done;
        PyObject *fields[8] = {
            Py_NewRef(id),
            Py_NewRef(str_text),
            Py_NewRef(Py_None),
            Py_NewRef(str_empty),
            Py_NewRef(str_empty),
            Py_NewRef(text),
            Py_NewRef(o->container),
            Py_NewRef(o->container_label),
        };
        block = make_block(fields);
        if (block == NULL) goto done;
    }
    if (PyList_Append(blocks, block) < 0) goto done;
    if (id != base && append_size(renamed, PyList_GET_SIZE(blocks) - 1) < 0) goto done;
    failed = 0;
done:
    Py_XDECREF(base);
    Py_XDECREF(id);
    Py_XDECREF(block);
    return failed ? -1 : 0;
}

static PyObject *
parse(PyObject *pieces, PyObject *outline_in, PyObject *seen, PyObject *blocks,
      PyObject *renamed, PyObject *first, PyObject *outlines)
{
    Outline o = {NULL, NULL, NULL, 0, 0, 0};
    PyObject *outline = NULL;
    if (outline_load(&o, outline_in) < 0) goto error;
    outline = Py_NewRef(outline_in);
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(pieces); k++) {
        PyObject *piece = PyList_GET_ITEM(pieces, k); /* borrowed */
        if (!PyUnicode_Check(piece) || PyUnicode_GET_LENGTH(piece) == 0) {
            PyErr_SetString(PyExc_ValueError, "pieces are non-empty strings");
            goto error;
        }
        if (append_size(first, PyList_GET_SIZE(blocks)) < 0 ||
            PyList_Append(outlines, outline) < 0) {
            goto error;
        }
        int has_newline;
        PyObject *text = piece_text(piece, &has_newline);
        if (text == NULL) goto error;
        if (PyUnicode_GET_LENGTH(text) == 0) {
            Py_DECREF(text);
            PyErr_SetString(PyExc_ValueError, "pieces are stripped");
            goto error;
        }
        long route = route_of(PyUnicode_READ_CHAR(text, 0));
        if (route < 0) {
            Py_DECREF(text);
            goto error;
        }
        Marker marker = {NO_MARKER, 0, 0, 0, 0, 0, 0, 0};
        int found = 0;
        if (route & try_provision) {
            found = read_provision(text, 0, &marker);
        }
        else if (route == try_heading) {
            found = read_heading(text, &marker);
        }
        if (found >= 0) {
            found = found && has_newline
                        ? split_heading(piece, &o, seen, blocks, renamed)
                        : add_block(text, route, &marker, &o, seen, blocks, renamed);
        }
        Py_DECREF(text);
        if (found < 0) goto error;
        Py_SETREF(outline, outline_tuple(&o));
        if (outline == NULL) goto error;
    }
    outline_clear(&o);
    return outline;
error:
    outline_clear(&o);
    Py_XDECREF(outline);
    return NULL;
}

/* -- pieces ------------------------------------------------------------------------------ */

/* Whether a line starting at pos starts with a marker: _LINE_MARKER_RE.match(text, pos), asked
 * only where the fast paths are unsure.  1, 0, or -1 on error. */
static int
line_has_marker(PyObject *text, Py_ssize_t pos)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (pos >= n) return 0;
    Py_UCS4 c = PyUnicode_READ_CHAR(text, pos);
    Marker m;
    if (c == '#') {
        /* #{1,6}(?: |$): at most six, then a space or the end ($ also before a last "\n"). */
        Py_ssize_t after = pos;
        while (after < n && after - pos <= 6 && PyUnicode_READ_CHAR(text, after) == '#') after++;
        if (after - pos > 6) return 0;
        if (after == n || PyUnicode_READ_CHAR(text, after) == ' ') return 1;
        return after == n - 1 && PyUnicode_READ_CHAR(text, after) == '\n';
    }
    if (c == '-' || c == '*' || c == 0x2022) {
        return pos + 1 < n && PyUnicode_READ_CHAR(text, pos + 1) == ' ';
    }
    Fast provision = provision_fast(text, pos, &m);
    if (provision == FAST_MATCH) return 1;
    Fast point = point_fast(text, pos, &m);
    if (point == FAST_MATCH) return 1;
    if (provision == FAST_NONE && point == FAST_NONE) return 0;
    PyObject *match = PyObject_CallFunction(line_marker_match, "On", text, pos);
    if (match == NULL) return -1;
    int found = match != Py_None;
    Py_DECREF(match);
    return found;
}

/* Where pieces go as the text is split: a list of strings, or pairs of offsets. */
typedef struct {
    PyObject *list;   /* strings, when not NULL */
    int64_t *spans;   /* else start and end of each piece */
    Py_ssize_t count, capacity;
} Sink;

/* Add text[start:end], stripped as str.strip() does, unless nothing is left. */
static int
emit_piece(Sink *sink, PyObject *text, Py_ssize_t start, Py_ssize_t end)
{
    while (start < end && Py_UNICODE_ISSPACE(PyUnicode_READ_CHAR(text, start))) start++;
    while (end > start && Py_UNICODE_ISSPACE(PyUnicode_READ_CHAR(text, end - 1))) end--;
    if (start == end) return 0;
    if (sink->list != NULL) {
        PyObject *piece = PyUnicode_Substring(text, start, end);
        if (piece == NULL) return -1;
        int failed = PyList_Append(sink->list, piece);
        Py_DECREF(piece);
        return failed;
    }
    if (sink->count + 2 > sink->capacity) {
        Py_ssize_t capacity = sink->capacity ? 2 * sink->capacity : 1024;
        int64_t *grown = PyMem_Realloc(sink->spans, capacity * sizeof(int64_t));
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        sink->spans = grown;
        sink->capacity = capacity;
    }
    sink->spans[sink->count++] = start;
    sink->spans[sink->count++] = end;
    return 0;
}

/* _BOUNDARY_RE.split(text), each piece stripped, empty ones left out: a block ends at a run of
 * blank lines, and before a line that starts with a marker. */
static int
split(PyObject *text, Sink *sink)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), start = 0, at = 0;
    while (at < n) {
        Py_ssize_t newline = PyUnicode_FindChar(text, '\n', at, n, 1);
        if (newline == -2) return -1;
        if (newline == -1) break;
        /* \n(?:[^\S\n]*\n)+: as many blank lines as follow. */
        Py_ssize_t blank_end = -1, line = newline + 1;
        for (;;) {
            Py_ssize_t k = line;
            while (k < n && PyUnicode_READ_CHAR(text, k) != '\n' &&
                   Py_UNICODE_ISSPACE(PyUnicode_READ_CHAR(text, k))) {
                k++;
            }
            if (k >= n || PyUnicode_READ_CHAR(text, k) != '\n') break;
            blank_end = line = k + 1;
        }
        if (blank_end >= 0) {
            if (emit_piece(sink, text, start, newline) < 0) return -1;
            start = at = blank_end;
            continue;
        }
        int marker = line_has_marker(text, newline + 1);
        if (marker < 0) return -1;
        if (marker) {
            if (emit_piece(sink, text, start, newline) < 0) return -1;
            start = newline + 1;
        }
        at = newline + 1;
    }
    return emit_piece(sink, text, start, n);
}

/* Whether a function that takes one str may run: its module part is configured and text is a
 * str (else an exception is set). */
static int
ready_for(int is_configured, const char *configure_first, PyObject *text)
{
    if (!is_configured) {
        PyErr_Format(PyExc_RuntimeError, "%s() first", configure_first);
        return 0;
    }
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "a str is needed");
        return 0;
    }
    return 1;
}

/* list(filter(None, map(str.strip, _BOUNDARY_RE.split(text)))) */
static PyObject *
split_pieces(PyObject *module, PyObject *text)
{
    if (!ready_for(configured, "configure", text)) return NULL;
    Sink sink = {PyList_New(0), NULL, 0, 0};
    if (sink.list == NULL) return NULL;
    if (split(text, &sink) < 0) Py_CLEAR(sink.list);
    return sink.list;
}

/* The same pieces as split_pieces, as the start and end of each in the text: native 64-bit
 * integers in pairs, packed in bytes (memoryview(...).cast("q") reads them). */
static PyObject *
piece_spans(PyObject *module, PyObject *text)
{
    if (!ready_for(configured, "configure", text)) return NULL;
    Sink sink = {NULL, NULL, 0, 0};
    PyObject *spans = NULL;
    if (split(text, &sink) == 0) {
        spans = PyBytes_FromStringAndSize(sink.spans ? (const char *)sink.spans : "",
                                          sink.count * (Py_ssize_t)sizeof(int64_t));
    }
    PyMem_Free(sink.spans);
    return spans;
}

/* How many old pieces from a[i] on equal the pieces of text from piece j on, the pieces of
 * text given by their spans (as piece_spans makes them). */
static PyObject *
common_run(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5 || !PyList_Check(args[0]) || !PyUnicode_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "common_run(pieces, i, text, spans, j)");
        return NULL;
    }
    PyObject *pieces = args[0], *text = args[2];
    Py_ssize_t i = PyLong_AsSsize_t(args[1]), j = PyLong_AsSsize_t(args[4]);
    if (PyErr_Occurred()) return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(args[3], &view, PyBUF_SIMPLE) < 0) return NULL;
    const int64_t *spans = view.buf;
    Py_ssize_t count = view.len / (Py_ssize_t)(2 * sizeof(int64_t)), length = 0;
    if (i < 0 || j < 0) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "common_run starts at pieces");
        return NULL;
    }
    while (i + length < PyList_GET_SIZE(pieces) && j + length < count) {
        PyObject *piece = PyList_GET_ITEM(pieces, i + length);
        Py_ssize_t start = spans[2 * (j + length)], end = spans[2 * (j + length) + 1];
        if (!PyUnicode_Check(piece) || PyUnicode_GET_LENGTH(piece) != end - start ||
            start < 0 || end > PyUnicode_GET_LENGTH(text)) {
            break;
        }
        Py_ssize_t same = PyUnicode_Tailmatch(text, piece, start, end, -1);
        if (same < 0) {
            PyBuffer_Release(&view);
            return NULL;
        }
        if (!same) break;
        length++;
    }
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(length);
}

/* -- words ------------------------------------------------------------------------------- */

/* text.WORD_RE's tokens: a run of word characters (\w, as the pattern engine reads it, or a
 * combining mark), or any other character that is not white space. */
#define MAX_COMBINING_RANGES 16
static Py_UCS4 combining[MAX_COMBINING_RANGES][2];
static int combining_count = -1;

static PyObject *
configure_words(PyObject *module, PyObject *ranges)
{
    PyObject *list = PySequence_Fast(ranges, "configure_words takes (low, high) pairs");
    if (list == NULL) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(list);
    if (n > MAX_COMBINING_RANGES) {
        Py_DECREF(list);
        PyErr_SetString(PyExc_ValueError, "too many ranges of combining marks");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned int low, high;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(list, i), "II", &low, &high)) {
            Py_DECREF(list);
            return NULL;
        }
        combining[i][0] = low;
        combining[i][1] = high;
    }
    combining_count = (int)n;
    Py_DECREF(list);
    Py_RETURN_NONE;
}

static inline int
is_word_char(Py_UCS4 c)
{
    if (Py_UNICODE_ISALNUM(c) || c == '_') return 1;
    for (int i = 0; i < combining_count; i++) {
        if (c >= combining[i][0] && c <= combining[i][1]) return 1;
    }
    return 0;
}

/* The next token of text at or after *at: its start and end, or 0 at the end of the text. */
static int
next_token(PyObject *text, Py_ssize_t *at, Py_ssize_t *start, Py_ssize_t *end)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), k = *at;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    while (k < n && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, k))) k++;
    if (k >= n) return 0;
    *start = k;
    if (is_word_char(PyUnicode_READ(kind, data, k))) {
        while (k < n && is_word_char(PyUnicode_READ(kind, data, k))) k++;
    }
    else {
        k++;
    }
    *at = *end = k;
    return 1;
}

/* len(WORD_RE.findall(text)) */
static PyObject *
count_words(PyObject *module, PyObject *text)
{
    if (!ready_for(combining_count >= 0, "configure_words", text)) return NULL;
    Py_ssize_t at = 0, start, end, count = 0;
    while (next_token(text, &at, &start, &end)) count++;
    return PyLong_FromSsize_t(count);
}

/* frozenset(WORD_RE.findall(text.lower())) */
static PyObject *
word_set(PyObject *module, PyObject *text)
{
    if (!ready_for(combining_count >= 0, "configure_words", text)) return NULL;
    PyObject *lowered = PyObject_CallMethodNoArgs(text, name_lower);
    PyObject *set = lowered ? PyFrozenSet_New(NULL) : NULL;
    Py_ssize_t at = 0, start, end;
    while (set != NULL && next_token(lowered, &at, &start, &end)) {
        PyObject *word = PyUnicode_Substring(lowered, start, end);
        if (word == NULL || PySet_Add(set, word) < 0) Py_CLEAR(set);
        Py_XDECREF(word);
    }
    Py_XDECREF(lowered);
    return set;
}

/* any(char in text for char in chars), in one pass over the text. */
static PyObject *
contains_any(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyUnicode_Check(args[0]) || !PyUnicode_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "contains_any(text, chars)");
        return NULL;
    }
    PyObject *text = args[0], *chars = args[1];
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), wanted = PyUnicode_GET_LENGTH(chars);
    Py_UCS4 lowest = 0x10ffff;
    for (Py_ssize_t i = 0; i < wanted; i++) {
        Py_UCS4 c = PyUnicode_READ_CHAR(chars, i);
        if (c < lowest) lowest = c;
    }
    if (wanted == 0 || lowest > PyUnicode_MAX_CHAR_VALUE(text)) Py_RETURN_FALSE;
    int kind = PyUnicode_KIND(text), chars_kind = PyUnicode_KIND(chars);
    const void *data = PyUnicode_DATA(text), *chars_data = PyUnicode_DATA(chars);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c < lowest) continue; /* most characters of most texts */
        for (Py_ssize_t k = 0; k < wanted; k++) {
            if (PyUnicode_READ(chars_kind, chars_data, k) == c) Py_RETURN_TRUE;
        }
    }
    Py_RETURN_FALSE;
}

/* -- JSON -------------------------------------------------------------------------------- */

/* The JSON of an untouched block: a copy of the template with the block's id, kind and text. */
static PyObject *
untouched_json(PyObject *template, PyObject *block)
{
    PyObject *item = PyDict_Copy(template);
    PyObject *tokens = item ? PyList_New(0) : NULL;
    PyObject *id = PyTuple_GET_ITEM(block, 0);
    if (tokens == NULL || PyDict_SetItem(item, key_old_id, id) < 0 ||
        PyDict_SetItem(item, key_new_id, id) < 0 ||
        PyDict_SetItem(item, key_kind, PyTuple_GET_ITEM(block, 1)) < 0 ||
        PyDict_SetItem(item, key_text, PyTuple_GET_ITEM(block, 5)) < 0 ||
        PyDict_SetItem(item, key_tokens, tokens) < 0) {
        Py_XDECREF(tokens);
        Py_XDECREF(item);
        return NULL;
    }
    Py_DECREF(tokens);
    return item;
}

/* untouched_entries(BlockDiff, "equal", blocks): BlockDiff("equal", b, b, False, ()) for each
 * block, the comparison of blocks the new version took unchanged from the old one. */
static PyObject *
untouched_entries(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyType_Check(args[0]) ||
        !PyType_IsSubtype((PyTypeObject *)args[0], &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "untouched_entries(BlockDiff, op, blocks)");
        return NULL;
    }
    PyTypeObject *entry_type = (PyTypeObject *)args[0];
    PyObject *blocks = PySequence_Fast(args[2], "untouched_entries takes a sequence of blocks");
    if (blocks == NULL) return NULL;
    PyObject *no_tokens = PyTuple_New(0);
    Py_ssize_t n = PySequence_Fast_GET_SIZE(blocks);
    PyObject *out = no_tokens ? PyList_New(n) : NULL;
    for (Py_ssize_t k = 0; out != NULL && k < n; k++) {
        PyObject *block = PySequence_Fast_GET_ITEM(blocks, k);
        PyObject *entry = entry_type->tp_alloc(entry_type, 5);
        if (entry == NULL) {
            Py_CLEAR(out);
            break;
        }
        PyTuple_SET_ITEM(entry, 0, Py_NewRef(args[1]));
        PyTuple_SET_ITEM(entry, 1, Py_NewRef(block));
        PyTuple_SET_ITEM(entry, 2, Py_NewRef(block));
        PyTuple_SET_ITEM(entry, 3, Py_NewRef(Py_False));
        PyTuple_SET_ITEM(entry, 4, Py_NewRef(no_tokens));
        /* Holds only blocks, which hold only strings: no reference cycle can pass through. */
        if (!PyObject_GC_IsTracked(block)) PyObject_GC_UnTrack(entry);
        PyList_SET_ITEM(out, k, entry);
    }
    Py_XDECREF(no_tokens);
    Py_DECREF(blocks);
    return out;
}

/* blocks_json(entries, template, to_json): the JSON of each BlockDiff, built from the template
 * for an untouched block (the same Block on both sides, op "equal"), else by to_json(entry). */
static PyObject *
blocks_json(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyDict_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "blocks_json(entries, template, to_json)");
        return NULL;
    }
    PyObject *entries = PySequence_Fast(args[0], "blocks_json takes a sequence of entries");
    if (entries == NULL) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(entries);
    PyObject *out = PyList_New(n);
    for (Py_ssize_t k = 0; out != NULL && k < n; k++) {
        PyObject *entry = PySequence_Fast_GET_ITEM(entries, k), *item;
        PyObject *block = PyTuple_Check(entry) && PyTuple_GET_SIZE(entry) == 5
                              ? PyTuple_GET_ITEM(entry, 2)
                              : NULL;
        if (block != NULL && block == PyTuple_GET_ITEM(entry, 1) && PyTuple_Check(block) &&
            PyTuple_GET_SIZE(block) == 8 && PyUnicode_Check(PyTuple_GET_ITEM(entry, 0)) &&
            PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(entry, 0), "equal") == 0) {
            item = untouched_json(args[1], block);
        }
        else {
            item = PyObject_CallOneArg(args[2], entry);
        }
        if (item == NULL) Py_CLEAR(out);
        else PyList_SET_ITEM(out, k, item);
    }
    Py_DECREF(entries);
    return out;
}

static PyObject *
parse_pieces(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (!configured) {
        PyErr_SetString(PyExc_RuntimeError, "configure() first");
        return NULL;
    }
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError, "parse_pieces takes 7 arguments");
        return NULL;
    }
    if (!PyList_CheckExact(args[0]) || !PyTuple_Check(args[1]) || !PyDict_Check(args[2]) ||
        !PyList_Check(args[3]) || !PyList_Check(args[4]) || !PyList_Check(args[5]) ||
        !PyList_Check(args[6])) {
        PyErr_SetString(PyExc_TypeError,
                        "parse_pieces(list, tuple, dict, list, list, list, list)");
        return NULL;
    }
    return parse(args[0], args[1], args[2], args[3], args[4], args[5], args[6]);
}

static PyMethodDef methods[] = {
    {"configure", configure, METH_VARARGS,
     "Hand over the patterns, tables and helpers of repo_store.diff.blocks."},
    {"split_pieces", split_pieces, METH_O,
     "split_pieces(text) -> the stripped, non-empty pieces of one block each"},
    {"piece_spans", piece_spans, METH_O,
     "piece_spans(text) -> the start and end of each piece, packed 64-bit integers"},
    {"common_run", (PyCFunction)(void (*)(void))common_run, METH_FASTCALL,
     "common_run(pieces, i, text, spans, j) -> how many pieces from i and j are equal"},
    {"configure_words", configure_words, METH_O,
     "Hand over the ranges of combining marks that text.WORD_RE keeps inside words."},
    {"count_words", count_words, METH_O, "count_words(text) -> len(WORD_RE.findall(text))"},
    {"word_set", word_set, METH_O, "word_set(text) -> frozenset(WORD_RE.findall(text.lower()))"},
    {"contains_any", (PyCFunction)(void (*)(void))contains_any, METH_FASTCALL,
     "contains_any(text, chars) -> whether any of chars is in text"},
    {"untouched_entries", (PyCFunction)(void (*)(void))untouched_entries, METH_FASTCALL,
     "untouched_entries(BlockDiff, op, blocks) -> BlockDiff(op, b, b, False, ()) for each"},
    {"blocks_json", (PyCFunction)(void (*)(void))blocks_json, METH_FASTCALL,
     "blocks_json(entries, template, to_json) -> the JSON of each entry"},
    {"parse_pieces", (PyCFunction)(void (*)(void))parse_pieces, METH_FASTCALL,
     "parse_pieces(pieces, outline, seen, blocks, renamed, first, outlines) -> outline"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_speedups",
    .m_doc = "The loops of the diff that run once per block, compiled.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    struct {
        PyObject **slot;
        const char *value;
    } constants[] = {
        {&str_empty, ""},
        {&str_newline, "\n"},
        {&str_space, " "},
        {&str_heading, "heading"},
        {&str_article, "article"},
        {&str_paragraph, "paragraph"},
        {&str_item, "item"},
        {&str_text, "text"},
        {&name_span, "span"},
        {&name_lastindex, "lastindex"},
        {&name_lower, "lower"},
        {&name_strip, "strip"},
        {&key_old_id, "old_id"},
        {&key_new_id, "new_id"},
        {&key_kind, "kind"},
        {&key_text, "text"},
        {&key_tokens, "tokens"},
    };
    for (size_t i = 0; i < sizeof(constants) / sizeof(constants[0]); i++) {
        *constants[i].slot = PyUnicode_InternFromString(constants[i].value);
        if (*constants[i].slot == NULL) return NULL;
    }
    for (Py_UCS4 c = 0; c < TABLE_SIZE; c++) {
        unusual[c] = c == '\n' ? 1 : c == ' ' ? 2 : Py_UNICODE_ISPRINTABLE(c) ? 0 : 4;
    }
    return PyModule_Create(&module_def);
}
