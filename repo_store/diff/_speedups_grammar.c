/* The grammar blocks.py hands over, and the tables made from it (_speedups.h). */
#include "_speedups.h"

Grammar grammar;

void
charset_load(CharSet *set, PyObject *chars)
{
    memset(set->table, 0, sizeof(set->table));
    for (Py_ssize_t i = 0; i < PyUnicode_GET_LENGTH(chars); i++) {
        Py_UCS4 c = PyUnicode_READ_CHAR(chars, i);
        if (c < TABLE_SIZE) set->table[c] = 1;
    }
    Py_XSETREF(set->chars, Py_NewRef(chars));
}


PyObject *
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
    if (!PyArg_ParseTuple(bits, "llll:route bits", &grammar.try_heading, &grammar.try_provision, &grammar.try_point,
                          &grammar.try_bullet)) {
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
    charset_load(&grammar.keyword_starts, starts);
    Py_DECREF(starts);
    memset(grammar.routes, 0, sizeof(grammar.routes));
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
        if (c < TABLE_SIZE) grammar.routes[c] = (unsigned char)route;
    }
    PyObject *patterns[4] = {provision_re, heading_re, point_re, line_marker_re}, *matches[4];
    for (int i = 0; i < 4; i++) {
        matches[i] = PyObject_GetAttrString(patterns[i], "match");
        if (matches[i] == NULL) {
            for (int k = 0; k < i; k++) Py_DECREF(matches[k]);
            return NULL;
        }
    }
    Py_XSETREF(grammar.provision_match, matches[0]);
    Py_XSETREF(grammar.heading_match, matches[1]);
    Py_XSETREF(grammar.point_match, matches[2]);
    Py_XSETREF(grammar.line_marker_match, matches[3]);
    Py_XSETREF(grammar.slugs, Py_NewRef(slug_cache));
    Py_XSETREF(grammar.keywords, Py_NewRef(keyword_tuple));
    Py_XSETREF(grammar.route_dict, Py_NewRef(route_dict_in));
    Py_XSETREF(grammar.provision_prefix, Py_NewRef(prefixes));
    Py_XSETREF(grammar.grouping_prefixes, Py_NewRef(grouping));
    Py_XSETREF(grammar.number_slug, Py_NewRef(slug));
    Py_XSETREF(grammar.unique_id, Py_NewRef(unique));
    Py_XSETREF(grammar.fold_whitespace, Py_NewRef(fold));
    Py_XSETREF(grammar.block_type, (PyTypeObject *)Py_NewRef(block));
    charset_load(&grammar.letters, letter_chars);
    charset_load(&grammar.number_ends, end_chars);
    charset_load(&grammar.title_initials, initial_chars);
    charset_load(&grammar.title_punctuation, punctuation_chars);
    grammar.configured = 1;
    Py_RETURN_NONE;
}

/* _ROUTES.get(c, 0); -1 on error. */
long
route_of(Py_UCS4 c)
{
    if (c < TABLE_SIZE) return grammar.routes[c];
    PyObject *key = PyUnicode_FromOrdinal((int)c);
    PyObject *route = key ? PyDict_GetItemWithError(grammar.route_dict, key) : NULL; /* borrowed */
    Py_XDECREF(key);
    if (route == NULL) return PyErr_Occurred() ? -1 : 0;
    return PyLong_AsLong(route);
}


int
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

