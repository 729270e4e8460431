/* A text split into pieces, as strings or as spans, and pieces compared with spans. */
#include "_speedups.h"

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

/* BOUNDARY_RE.split(text), each piece stripped, empty ones left out: a block ends at a run of
 * blank lines, and before a line that starts with a marker. */
static int
split(const State *st, PyObject *text, Sink *sink)
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
        int marker = line_has_marker(st, text, newline + 1);
        if (marker < 0) return -1;
        if (marker) {
            if (emit_piece(sink, text, start, newline) < 0) return -1;
            start = newline + 1;
        }
        at = newline + 1;
    }
    return emit_piece(sink, text, start, n);
}

/* list(filter(None, map(str.strip, BOUNDARY_RE.split(text)))) */
PyObject *
split_pieces(PyObject *module, PyObject *text)
{
    const State *st = state_of(module);
    if (!ready_for(st->grammar.configured, "configure", text)) return NULL;
    Sink sink = {PyList_New(0), NULL, 0, 0};
    if (sink.list == NULL) return NULL;
    if (split(st, text, &sink) < 0) Py_CLEAR(sink.list);
    return sink.list;
}

/* The same pieces as split_pieces, as the start and end of each in the text: native 64-bit
 * integers in pairs, packed in bytes (memoryview(...).cast("q") reads them). */
PyObject *
piece_spans(PyObject *module, PyObject *text)
{
    const State *st = state_of(module);
    if (!ready_for(st->grammar.configured, "configure", text)) return NULL;
    Sink sink = {NULL, NULL, 0, 0};
    PyObject *spans = NULL;
    if (split(st, text, &sink) == 0) {
        spans = PyBytes_FromStringAndSize(sink.spans ? (const char *)sink.spans : "",
                                          sink.count * (Py_ssize_t)sizeof(int64_t));
    }
    PyMem_Free(sink.spans);
    return spans;
}

/* How many old pieces from a[i] on equal the pieces of text from piece j on, the pieces of
 * text given by their spans (as piece_spans makes them). */
PyObject *
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

