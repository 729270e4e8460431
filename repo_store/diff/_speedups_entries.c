/* The comparisons of untouched blocks, and the JSON of every comparison. */
#include "_speedups.h"

/* The JSON of an untouched block: a copy of the template with the block's id, kind and text. */
static PyObject *
untouched_json(const State *st, PyObject *template, PyObject *block)
{
    PyObject *item = PyDict_Copy(template);
    PyObject *tokens = item ? PyList_New(0) : NULL;
    PyObject *id = PyTuple_GET_ITEM(block, 0);
    if (tokens == NULL || PyDict_SetItem(item, st->key_old_id, id) < 0 ||
        PyDict_SetItem(item, st->key_new_id, id) < 0 ||
        PyDict_SetItem(item, st->key_kind, PyTuple_GET_ITEM(block, 1)) < 0 ||
        PyDict_SetItem(item, st->key_text, PyTuple_GET_ITEM(block, 5)) < 0 ||
        PyDict_SetItem(item, st->key_tokens, tokens) < 0) {
        Py_XDECREF(tokens);
        Py_XDECREF(item);
        return NULL;
    }
    Py_DECREF(tokens);
    return item;
}

/* untouched_entries(BlockDiff, "equal", blocks): BlockDiff("equal", b, b, False, ()) for each
 * block, the comparison of blocks the new version took unchanged from the old one. */
PyObject *
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
PyObject *
blocks_json(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    const State *st = state_of(module);
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
            item = untouched_json(st, args[1], block);
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

