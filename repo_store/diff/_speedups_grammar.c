/* The grammar grammar.py hands over (GRAMMAR), and the tables made from it (_speedups.h). */
#include "_speedups.h"

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


/* The fields configure reads from the grammar, and the type each must have (NULL: any). */
enum {
    F_PROVISION, F_HEADING, F_POINT, F_LINE_MARKER, F_KEYWORDS, F_ROUTES, F_ROUTE_BITS,
    F_PREFIXES, F_GROUPING, F_LETTERS, F_NUMBER_ENDS, F_TITLE_INITIALS, F_TITLE_PUNCTUATION,
    F_NUMBER_SLUG, F_SLUGS, F_UNIQUE_ID, F_FOLD_WHITESPACE, F_BLOCK, FIELD_COUNT
};

/* The first characters of the keywords, as a str; NULL with an error. */
static PyObject *
keyword_starts(PyObject *keyword_tuple)
{
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
    return starts;
}

/* The routes of the first code points into routes (TABLE_SIZE of them); -1 with an error. */
static int
load_routes(unsigned char *routes, PyObject *route_dict)
{
    memset(routes, 0, TABLE_SIZE);
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(route_dict, &pos, &key, &value)) {
        if (!PyUnicode_Check(key) || PyUnicode_GET_LENGTH(key) != 1 || !PyLong_Check(value)) {
            PyErr_SetString(PyExc_TypeError, "routes map single characters to ints");
            return -1;
        }
        Py_UCS4 c = PyUnicode_READ_CHAR(key, 0);
        long route = PyLong_AsLong(value);
        if (route < 0 || route > 255) {
            PyErr_SetString(PyExc_ValueError, "routes are small ints");
            return -1;
        }
        if (c < TABLE_SIZE) routes[c] = (unsigned char)route;
    }
    return 0;
}

/* configure(grammar): take the patterns, tables and helpers of grammar.GRAMMAR, reading its
 * fields by name. */
PyObject *
configure(PyObject *module, PyObject *source)
{
    Grammar *g = &state_of(module)->grammar;
    const struct {
        const char *name;
        PyTypeObject *type;
    } wanted[FIELD_COUNT] = {
        [F_PROVISION] = {"provision", NULL},
        [F_HEADING] = {"heading", NULL},
        [F_POINT] = {"point", NULL},
        [F_LINE_MARKER] = {"line_marker", NULL},
        [F_KEYWORDS] = {"keywords", &PyTuple_Type},
        [F_ROUTES] = {"routes", &PyDict_Type},
        [F_ROUTE_BITS] = {"route_bits", &PyTuple_Type},
        [F_PREFIXES] = {"prefixes", &PyDict_Type},
        [F_GROUPING] = {"grouping", &PyFrozenSet_Type},
        [F_LETTERS] = {"letters", &PyUnicode_Type},
        [F_NUMBER_ENDS] = {"number_ends", &PyUnicode_Type},
        [F_TITLE_INITIALS] = {"title_initials", &PyUnicode_Type},
        [F_TITLE_PUNCTUATION] = {"title_punctuation", &PyUnicode_Type},
        [F_NUMBER_SLUG] = {"number_slug", NULL},
        [F_SLUGS] = {"slugs", &PyDict_Type},
        [F_UNIQUE_ID] = {"unique_id", NULL},
        [F_FOLD_WHITESPACE] = {"fold_whitespace", NULL},
        [F_BLOCK] = {"block", &PyType_Type},
    };
    PyObject *field[FIELD_COUNT] = {NULL}, *matches[4] = {NULL}, *starts = NULL, *result = NULL;
    /* Everything is read and checked first, so that a grammar refused replaces nothing. */
    long bits[4];
    unsigned char routes[TABLE_SIZE];
    for (int i = 0; i < FIELD_COUNT; i++) {
        field[i] = PyObject_GetAttrString(source, wanted[i].name);
        if (field[i] == NULL) goto done;
        if (wanted[i].type != NULL && !PyObject_TypeCheck(field[i], wanted[i].type)) {
            PyErr_Format(PyExc_TypeError, "grammar.%s must be a %s", wanted[i].name,
                         wanted[i].type->tp_name);
            goto done;
        }
    }
    if (!PyArg_ParseTuple(field[F_ROUTE_BITS], "llll:route_bits", &bits[0], &bits[1], &bits[2],
                          &bits[3])) {
        goto done;
    }
    if (!PyType_IsSubtype((PyTypeObject *)field[F_BLOCK], &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "Block must be a named tuple");
        goto done;
    }
    for (int i = 0; i < 4; i++) {
        matches[i] = PyObject_GetAttrString(field[F_PROVISION + i], "match");
        if (matches[i] == NULL) goto done;
    }
    starts = keyword_starts(field[F_KEYWORDS]);
    if (starts == NULL || load_routes(routes, field[F_ROUTES]) < 0) goto done;
    g->try_heading = bits[0];
    g->try_provision = bits[1];
    g->try_point = bits[2];
    g->try_bullet = bits[3];
    memcpy(g->routes, routes, sizeof(g->routes));
    charset_load(&g->keyword_starts, starts);
    Py_XSETREF(g->provision_match, Py_NewRef(matches[0]));
    Py_XSETREF(g->heading_match, Py_NewRef(matches[1]));
    Py_XSETREF(g->point_match, Py_NewRef(matches[2]));
    Py_XSETREF(g->line_marker_match, Py_NewRef(matches[3]));
    Py_XSETREF(g->keywords, Py_NewRef(field[F_KEYWORDS]));
    Py_XSETREF(g->route_dict, Py_NewRef(field[F_ROUTES]));
    Py_XSETREF(g->provision_prefix, Py_NewRef(field[F_PREFIXES]));
    Py_XSETREF(g->grouping_prefixes, Py_NewRef(field[F_GROUPING]));
    Py_XSETREF(g->number_slug, Py_NewRef(field[F_NUMBER_SLUG]));
    Py_XSETREF(g->slugs, Py_NewRef(field[F_SLUGS]));
    Py_XSETREF(g->unique_id, Py_NewRef(field[F_UNIQUE_ID]));
    Py_XSETREF(g->fold_whitespace, Py_NewRef(field[F_FOLD_WHITESPACE]));
    Py_XSETREF(g->block_type, (PyTypeObject *)Py_NewRef(field[F_BLOCK]));
    charset_load(&g->letters, field[F_LETTERS]);
    charset_load(&g->number_ends, field[F_NUMBER_ENDS]);
    charset_load(&g->title_initials, field[F_TITLE_INITIALS]);
    charset_load(&g->title_punctuation, field[F_TITLE_PUNCTUATION]);
    g->configured = 1;
    result = Py_NewRef(Py_None);
done:
    for (int i = 0; i < FIELD_COUNT; i++) Py_XDECREF(field[i]);
    for (int i = 0; i < 4; i++) Py_XDECREF(matches[i]);
    Py_XDECREF(starts);
    return result;
}

/* Every reference the grammar holds, for the module's traverse and clear. */
#define GRAMMAR_REFERENCES(g)                                                               \
    X(g->provision_match) X(g->heading_match) X(g->point_match) X(g->line_marker_match)     \
    X(g->keywords) X(g->provision_prefix) X(g->grouping_prefixes) X(g->number_slug)         \
    X(g->slugs) X(g->unique_id) X(g->fold_whitespace) X(g->route_dict) X(g->block_type)     \
    X(g->letters.chars) X(g->number_ends.chars) X(g->title_initials.chars)                  \
    X(g->title_punctuation.chars) X(g->keyword_starts.chars)

int
grammar_traverse(Grammar *g, visitproc visit, void *arg)
{
#define X(field) Py_VISIT(field);
    GRAMMAR_REFERENCES(g)
#undef X
    return 0;
}

void
grammar_clear(Grammar *g)
{
#define X(field) Py_CLEAR(field);
    GRAMMAR_REFERENCES(g)
#undef X
    g->configured = 0;
}

/* ROUTES.get(c, 0); -1 on error. */
long
route_of(const State *st, Py_UCS4 c)
{
    if (c < TABLE_SIZE) return st->grammar.routes[c];
    PyObject *key = PyUnicode_FromOrdinal((int)c);
    /* borrowed */
    PyObject *route = key ? PyDict_GetItemWithError(st->grammar.route_dict, key) : NULL;
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

