/* Markers at the start of a piece or a line: the usual forms read here, the rest by the
 * patterns (_speedups.c). */
#include "_speedups.h"

/* What a fast path knows: the pattern matches as read, it does not match, or ask it. */
typedef enum { FAST_UNSURE, FAST_MATCH, FAST_NONE } Fast;


/* match.span(g): where group g of a match starts and ends. */
static int
match_span(const State *st, PyObject *match, Py_ssize_t g, Py_ssize_t *start, Py_ssize_t *end)
{
    PyObject *index = PyLong_FromSsize_t(g);
    PyObject *span = index ? PyObject_CallMethodOneArg(match, st->name_span, index) : NULL;
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
provision_fast(const State *st, PyObject *text, Py_ssize_t pos, Marker *m)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    Py_UCS4 first = PyUnicode_READ_CHAR(text, pos);
    Py_ssize_t at = -1;
    if (!charset_has(&st->grammar.keyword_starts, first)) return FAST_NONE;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(st->grammar.keywords); i++) {
        PyObject *keyword = PyTuple_GET_ITEM(st->grammar.keywords, i);
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
        else if (next == '\n' || charset_has(&st->grammar.number_ends, next)) {
            stops = 1;
        }
        else if (next == ' ' && digits + 1 < n) {
            stops = charset_has(&st->grammar.number_ends, after) ||
                    charset_has(&st->grammar.title_initials, after);
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
int
read_provision(const State *st, PyObject *text, Py_ssize_t pos, Marker *m)
{
    Fast fast = provision_fast(st, text, pos, m);
    if (fast != FAST_UNSURE) return fast == FAST_MATCH;
    PyObject *match = pos ? PyObject_CallFunction(st->grammar.provision_match, "On", text, pos)
                          : PyObject_CallOneArg(st->grammar.provision_match, text);
    if (match == NULL) return -1;
    int found = match != Py_None;
    if (found && (match_span(st, match, 0, &m->start, &m->end) < 0 ||
                  match_span(st, match, 1, &m->kw_start, &m->kw_end) < 0 ||
                  match_span(st, match, 2, &m->num_start, &m->num_end) < 0)) {
        found = -1;
    }
    Py_DECREF(match);
    if (found == 1) m->kind = PROVISION;
    return found;
}

/* A Markdown heading, or a provision written as one ("## Статья 5"). */
int
read_heading(const State *st, PyObject *text, Marker *m)
{
    PyObject *match = PyObject_CallOneArg(st->grammar.heading_match, text);
    if (match == NULL) return -1;
    if (match == Py_None) {
        Py_DECREF(match);
        return 0;
    }
    Py_ssize_t start, end;
    int failed = match_span(st, match, 0, &start, &end);
    Py_DECREF(match);
    if (failed) return -1;
    if (end < PyUnicode_GET_LENGTH(text)) {
        int provision = read_provision(st, text, end, m);
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
point_fast(const State *st, PyObject *text, Py_ssize_t pos, Marker *m)
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
    if (charset_has(&st->grammar.letters, first)) {
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

int
read_point(const State *st, PyObject *text, Marker *m)
{
    Fast fast = point_fast(st, text, 0, m);
    if (fast != FAST_UNSURE) return fast == FAST_MATCH;
    PyObject *match = PyObject_CallOneArg(st->grammar.point_match, text);
    if (match == NULL) return -1;
    if (match == Py_None) {
        Py_DECREF(match);
        return 0;
    }
    /* Each form of the pattern has one group, which lastindex names: 1 to 3 for a paragraph
     * number, 4 for an item letter. */
    PyObject *last = PyObject_GetAttr(match, st->name_lastindex);
    Py_ssize_t group = last ? PyLong_AsSsize_t(last) : -1;
    Py_XDECREF(last);
    int failed = (group == -1 && PyErr_Occurred()) ||
                 match_span(st, match, 0, &m->start, &m->end) < 0;
    if (!failed && (group < 1 || group > 4)) {
        PyErr_SetString(PyExc_ValueError, "a point marker without a number");
        failed = 1;
    }
    failed = failed || match_span(st, match, group, &m->num_start, &m->num_end) < 0;
    Py_DECREF(match);
    if (failed) return -1;
    m->kind = POINT;
    m->item = group == 4;
    return 1;
}


/* Whether a line starting at pos starts with a marker: LINE_MARKER_RE.match(text, pos), asked
 * only where the fast paths are unsure.  1, 0, or -1 on error. */
int
line_has_marker(const State *st, PyObject *text, Py_ssize_t pos)
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
    Fast provision = provision_fast(st, text, pos, &m);
    if (provision == FAST_MATCH) return 1;
    Fast point = point_fast(st, text, pos, &m);
    if (point == FAST_MATCH) return 1;
    if (provision == FAST_NONE && point == FAST_NONE) return 0;
    PyObject *match = PyObject_CallFunction(st->grammar.line_marker_match, "On", text, pos);
    if (match == NULL) return -1;
    int found = match != Py_None;
    Py_DECREF(match);
    return found;
}

