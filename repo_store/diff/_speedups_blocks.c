/* Pieces parsed into blocks: _parse_pieces in blocks.py, step by step. */
#include "_speedups.h"

void
blocks_init(State *st)
{
    for (Py_UCS4 c = 0; c < TABLE_SIZE; c++) {
        st->unusual[c] = c == '\n' ? 1 : c == ' ' ? 2 : Py_UNICODE_ISPRINTABLE(c) ? 0 : 4;
    }
}

/* An id: head + middle + tail, where tail is a str or, when NULL, the number.  Without a head
 * the middle loses its leading "__" ("para_2" at top level, "art_5__para_2" inside). */
static PyObject *
make_id(const State *st, PyObject *head, const char *middle, PyObject *tail, Py_ssize_t number)
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
    return tail ? PyUnicode_FromFormat("%U%s%U", head ? head : st->str_empty, middle, tail)
                : PyUnicode_FromFormat("%U%s%s", head ? head : st->str_empty, middle, digits);
}

/* number_slug(number), without the call when the number is ASCII digits (most are). */
static PyObject *
slug_of(const State *st, PyObject *number)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(number);
    int digits = n > 0 && PyUnicode_IS_ASCII(number);
    const Py_UCS1 *chars = digits ? PyUnicode_1BYTE_DATA(number) : NULL;
    for (Py_ssize_t i = 0; digits && i < n; i++) digits = is_ascii_digit(chars[i]);
    if (digits) return Py_NewRef(number);
    PyObject *known = PyDict_GetItemWithError(st->grammar.slugs, number); /* borrowed */
    if (known != NULL) return Py_NewRef(known);
    return PyErr_Occurred() ? NULL : PyObject_CallOneArg(st->grammar.number_slug, number);
}

/* base if seen does not have it, else unique_id(base, seen); then seen.setdefault(id, 2). */
static PyObject *
claim_id(const State *st, PyObject *base, PyObject *seen)
{
    int taken = PyDict_Contains(seen, base);
    if (taken < 0) return NULL;
    PyObject *id = taken ? PyObject_CallFunctionObjArgs(st->grammar.unique_id, base, seen, NULL)
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

/* A Block of the eight fields (borrowed); NULL if any is NULL, its error being set. */
static PyObject *
make_block(const State *st, PyObject *id, PyObject *kind, PyObject *number, PyObject *label,
           PyObject *heading, PyObject *text, PyObject *parent, PyObject *provision)
{
    PyObject *fields[8] = {id, kind, number, label, heading, text, parent, provision};
    for (int i = 0; i < 8; i++) {
        if (fields[i] == NULL) return NULL;
    }
    PyObject *block = st->grammar.block_type->tp_alloc(st->grammar.block_type, 8);
    if (block == NULL) return NULL;
    for (int i = 0; i < 8; i++) PyTuple_SET_ITEM(block, i, Py_NewRef(fields[i]));
    /* Strings and None only: the block can be in no reference cycle, so the cycle collector
     * need not look at it (it would untrack it on its first pass anyway, after a look). */
    PyObject_GC_UnTrack(block);
    return block;
}

/* The text of a piece on one line: newlines as spaces, folded when it has odd whitespace
 * (a run of spaces, or anything not printable, as the Python loop tests). */
static PyObject *
piece_text(const State *st, PyObject *piece, int *has_newline)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(piece);
    const void *data = PyUnicode_DATA(piece);
    int newline = 0, fold = 0;
    /* st->unusual[c]: 1 for a line break, 2 for a space, 4 for anything not printable; most
     * characters are 0, which the loop passes with one look-up. */
#define SCAN(TYPE)                                                                          \
    {                                                                                       \
        const TYPE *chars = (const TYPE *)data;                                             \
        int previous_space = 0;                                                             \
        for (Py_ssize_t i = 0; i < n; i++) {                                                \
            Py_UCS4 c = chars[i];                                                           \
            int flags = c < TABLE_SIZE ? st->unusual[c] : (Py_UNICODE_ISPRINTABLE(c) ? 0 : 4);   \
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
    PyObject *text = newline ? PyUnicode_Replace(piece, st->str_newline, st->str_space, -1)
                             : Py_NewRef(piece);
    if (text == NULL || !fold) return text;
    PyObject *folded = PyObject_CallOneArg(st->grammar.fold_whitespace, text);
    Py_DECREF(text);
    return folded;
}

/* text[end:].lstrip(title_punctuation): the title after a provision's number. */
static PyObject *
title_after(const State *st, PyObject *text, Py_ssize_t end)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    while (end < n &&
           charset_has(&st->grammar.title_punctuation, PyUnicode_READ_CHAR(text, end))) {
        end++;
    }
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

static PyObject *parse(const State *st, PyObject *pieces, PyObject *outline_in, PyObject *seen,
                       PyObject *blocks, PyObject *renamed, PyObject *first,
                       PyObject *outlines);

/* A heading piece with lines under it: its first line and the rest are two pieces. */
static int
split_heading(const State *st, PyObject *piece, Outline *o, PyObject *seen, PyObject *blocks,
              PyObject *renamed)
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
        PyObject *stripped = line ? PyObject_CallMethodNoArgs(line, st->name_strip) : NULL;
        Py_XDECREF(line);
        failed = stripped == NULL ||
                 (PyUnicode_GET_LENGTH(stripped) > 0 && PyList_Append(parts, stripped) < 0);
        Py_XDECREF(stripped);
    }
    if (!failed) {
        after = parse(st, parts, before, seen, blocks, renamed, scratch_first, scratch_outlines);
        failed = after == NULL || outline_load(o, after) < 0;
    }
    Py_XDECREF(parts);
    Py_XDECREF(scratch_first);
    Py_XDECREF(scratch_outlines);
    Py_XDECREF(before);
    Py_XDECREF(after);
    return failed ? -1 : 0;
}

/* The outline enters a new container: a provision or a heading. */
static void
enter_container(const State *st, Outline *o, PyObject *id, PyObject *label)
{
    Py_SETREF(o->container, Py_NewRef(id));
    Py_SETREF(o->container_label, Py_NewRef(label));
    Py_SETREF(o->paragraph, Py_NewRef(st->str_empty));
    o->unnumbered = o->bullets = 0;
}

/* The id prefix of a provision's keyword (borrowed), or NULL with an error. */
static PyObject *
prefix_of(const State *st, PyObject *text, const Marker *marker)
{
    PyObject *keyword = PyUnicode_Substring(text, marker->kw_start, marker->kw_end);
    PyObject *lowered = keyword ? PyObject_CallMethodNoArgs(keyword, st->name_lower) : NULL;
    Py_XDECREF(keyword);
    if (lowered == NULL) return NULL;
    PyObject *prefix = PyDict_GetItemWithError(st->grammar.provision_prefix, lowered);
    if (prefix == NULL && !PyErr_Occurred()) PyErr_SetObject(PyExc_KeyError, lowered);
    Py_DECREF(lowered);
    return prefix;
}

/* head + middle + the number spelled for an id. */
static PyObject *
numbered_id(const State *st, PyObject *head, const char *middle, PyObject *number)
{
    PyObject *slug = slug_of(st, number);
    PyObject *id = slug ? make_id(st, head, middle, slug, 0) : NULL;
    Py_XDECREF(slug);
    return id;
}

/* Append the block of one piece (not a heading with lines under it); update the outline.
 * Each step runs only if the ones before it succeeded: a NULL carries the error through. */
static int
add_block(const State *st, PyObject *text, long route, const Marker *marker, Outline *o,
          PyObject *seen, PyObject *blocks, PyObject *renamed)
{
    PyObject *base = NULL, *id = NULL, *block = NULL, *number = NULL, *label = NULL;
    PyObject *title = NULL;
    Marker point;
    int is_point = 0;
    if (marker->kind == NO_MARKER && (route & st->grammar.try_point)) {
        is_point = read_point(st, text, &point);
        if (is_point < 0) return -1;
    }

    if (marker->kind == PROVISION) {
        PyObject *prefix = prefix_of(st, text, marker);
        number = prefix ? PyUnicode_Substring(text, marker->num_start, marker->num_end) : NULL;
        base = number ? numbered_id(st, prefix, "_", number) : NULL;
        id = base ? claim_id(st, base, seen) : NULL;
        int grouping = id ? PySet_Contains(st->grammar.grouping_prefixes, prefix) : -1;
        label = grouping >= 0 ? PyUnicode_Substring(text, marker->start, marker->end) : NULL;
        title = label ? title_after(st, text, marker->end) : NULL;
        block = make_block(st, id, grouping ? st->str_heading : st->str_article, number, label,
                           title, text, st->str_empty, label);
        if (block != NULL) enter_container(st, o, id, label);
    }
    else if (marker->kind == HEADING) {
        o->headings += 1;
        base = make_id(st, NULL, "h", NULL, o->headings);
        id = base ? claim_id(st, base, seen) : NULL;
        title = id ? PyUnicode_Substring(text, marker->end, PyUnicode_GET_LENGTH(text)) : NULL;
        block = make_block(st, id, st->str_heading, Py_None, st->str_empty, title, text,
                           st->str_empty, st->str_empty);
        if (block != NULL) enter_container(st, o, id, st->str_empty);
    }
    else if (is_point) {
        PyObject *parent = point.item && PyUnicode_GET_LENGTH(o->paragraph) ? o->paragraph
                                                                            : o->container;
        number = PyUnicode_Substring(text, point.num_start, point.num_end);
        base = number ? numbered_id(st, parent, point.item ? "__item_" : "__para_", number) : NULL;
        id = base ? claim_id(st, base, seen) : NULL;
        label = id ? PyUnicode_Substring(text, 0, point.end) : NULL;
        block = make_block(st, id, point.item ? st->str_item : st->str_paragraph, number, label,
                           st->str_empty, text, parent, o->container_label);
        if (block != NULL && !point.item) {
            Py_SETREF(o->paragraph, Py_NewRef(id));
            o->bullets = 0;
        }
    }
    else if ((route & st->grammar.try_bullet) && PyUnicode_GET_LENGTH(text) >= 2 &&
             PyUnicode_READ_CHAR(text, 1) == ' ') {
        PyObject *parent = PyUnicode_GET_LENGTH(o->paragraph) ? o->paragraph : o->container;
        o->bullets += 1;
        base = make_id(st, parent, "__li", NULL, o->bullets);
        id = base ? claim_id(st, base, seen) : NULL;
        label = id ? PyUnicode_Substring(text, 0, 1) : NULL;
        block = make_block(st, id, st->str_item, Py_None, label, st->str_empty, text, parent,
                           o->container_label);
    }
    else {
        o->unnumbered += 1;
        base = make_id(st, o->container, "__p", NULL, o->unnumbered);
        id = base ? claim_id(st, base, seen) : NULL;
        block = make_block(st, id, st->str_text, Py_None, st->str_empty, st->str_empty, text,
                           o->container, o->container_label);
    }
    int failed = block == NULL || PyList_Append(blocks, block) < 0 ||
                 (id != base && append_size(renamed, PyList_GET_SIZE(blocks) - 1) < 0);
    Py_XDECREF(base);
    Py_XDECREF(id);
    Py_XDECREF(block);
    Py_XDECREF(number);
    Py_XDECREF(label);
    Py_XDECREF(title);
    return failed ? -1 : 0;
}

static PyObject *
parse(const State *st, PyObject *pieces, PyObject *outline_in, PyObject *seen, PyObject *blocks,
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
        PyObject *text = piece_text(st, piece, &has_newline);
        if (text == NULL) goto error;
        if (PyUnicode_GET_LENGTH(text) == 0) {
            Py_DECREF(text);
            PyErr_SetString(PyExc_ValueError, "pieces are stripped");
            goto error;
        }
        long route = route_of(st, PyUnicode_READ_CHAR(text, 0));
        if (route < 0) {
            Py_DECREF(text);
            goto error;
        }
        Marker marker = {NO_MARKER, 0, 0, 0, 0, 0, 0, 0};
        int found = 0;
        if (route & st->grammar.try_provision) {
            found = read_provision(st, text, 0, &marker);
        }
        else if (route == st->grammar.try_heading) {
            found = read_heading(st, text, &marker);
        }
        if (found >= 0) {
            found = found && has_newline
                        ? split_heading(st, piece, &o, seen, blocks, renamed)
                        : add_block(st, text, route, &marker, &o, seen, blocks, renamed);
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


PyObject *
parse_pieces(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    const State *st = state_of(module);
    if (!st->grammar.configured) {
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
    return parse(st, args[0], args[1], args[2], args[3], args[4], args[5], args[6]);
}

