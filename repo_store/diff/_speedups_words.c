/* Words as text.WORD_RE finds them, counted or collected, and a search for any of a few
 * characters. */
#include "_speedups.h"

/* text.WORD_RE's tokens: a run of word characters (\w, as the pattern engine reads it, or a
 * combining mark), or any other character that is not white space. */
PyObject *
configure_words(PyObject *module, PyObject *ranges)
{
    State *st = state_of(module);
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
        st->combining[i][0] = low;
        st->combining[i][1] = high;
    }
    st->combining_count = (int)n;
    Py_DECREF(list);
    Py_RETURN_NONE;
}

static inline int
is_word_char(const State *st, Py_UCS4 c)
{
    if (Py_UNICODE_ISALNUM(c) || c == '_') return 1;
    for (int i = 0; i < st->combining_count; i++) {
        if (c >= st->combining[i][0] && c <= st->combining[i][1]) return 1;
    }
    return 0;
}

/* The next token of text at or after *at: its start and end, or 0 at the end of the text. */
static int
next_token(const State *st, PyObject *text, Py_ssize_t *at, Py_ssize_t *start, Py_ssize_t *end)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), k = *at;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    while (k < n && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, k))) k++;
    if (k >= n) return 0;
    *start = k;
    if (is_word_char(st, PyUnicode_READ(kind, data, k))) {
        while (k < n && is_word_char(st, PyUnicode_READ(kind, data, k))) k++;
    }
    else {
        k++;
    }
    *at = *end = k;
    return 1;
}

/* len(WORD_RE.findall(text)) */
PyObject *
count_words(PyObject *module, PyObject *text)
{
    const State *st = state_of(module);
    if (!ready_for(st->combining_count >= 0, "configure_words", text)) return NULL;
    Py_ssize_t at = 0, start, end, count = 0;
    while (next_token(st, text, &at, &start, &end)) count++;
    return PyLong_FromSsize_t(count);
}

/* frozenset(WORD_RE.findall(text.lower())) */
PyObject *
word_set(PyObject *module, PyObject *text)
{
    const State *st = state_of(module);
    if (!ready_for(st->combining_count >= 0, "configure_words", text)) return NULL;
    PyObject *lowered = PyObject_CallMethodNoArgs(text, st->name_lower);
    PyObject *set = lowered ? PyFrozenSet_New(NULL) : NULL;
    Py_ssize_t at = 0, start, end;
    while (set != NULL && next_token(st, lowered, &at, &start, &end)) {
        PyObject *word = PyUnicode_Substring(lowered, start, end);
        if (word == NULL || PySet_Add(set, word) < 0) Py_CLEAR(set);
        Py_XDECREF(word);
    }
    Py_XDECREF(lowered);
    return set;
}

/* any(char in text for char in chars), in one pass over the text. */
PyObject *
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

