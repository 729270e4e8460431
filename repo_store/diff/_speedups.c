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
 * grammar.py and text.py hand over once (configure, configure_words), and the tests check that
 * both give the same results.
 *
 * The usual forms of markers ("Статья 5.", "1. ", "а) ") are read here directly, and only where
 * the patterns are sure to read them the same way on their first try: a number of plain digits
 * followed by a mark that ends it.  Anything else is left to the patterns themselves.
 *
 * The parts, with what they share in _speedups.h: _speedups_grammar.c (what configure hands
 * over), _speedups_markers.c, _speedups_pieces.c, _speedups_blocks.c, _speedups_words.c and
 * _speedups_entries.c; this file makes the module.  The module is made in two phases (PEP 489)
 * and keeps everything in its state: the grammar, the tables and the strings it makes once.
 */
#include "_speedups.h"

static PyMethodDef methods[] = {
    {"configure", configure, METH_O,
     "configure(grammar) takes the patterns, tables and helpers of grammar.GRAMMAR"},
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

/* The strings of the state, made once when the module is made. */
#define STATE_STRINGS(st)                                                                   \
    X(st->str_empty, "") X(st->str_newline, "\n") X(st->str_space, " ")                     \
    X(st->str_heading, "heading") X(st->str_article, "article")                             \
    X(st->str_paragraph, "paragraph") X(st->str_item, "item") X(st->str_text, "text")       \
    X(st->name_span, "span") X(st->name_lastindex, "lastindex") X(st->name_lower, "lower")  \
    X(st->name_strip, "strip") X(st->key_old_id, "old_id") X(st->key_new_id, "new_id")      \
    X(st->key_kind, "kind") X(st->key_text, "text") X(st->key_tokens, "tokens")

static int
module_exec(PyObject *module)
{
    State *st = state_of(module);
    st->combining_count = -1;
#define X(slot, value)                                                                      \
    if ((slot = PyUnicode_InternFromString(value)) == NULL) return -1;
    STATE_STRINGS(st)
#undef X
    blocks_init(st);
    return 0;
}

static int
module_traverse(PyObject *module, visitproc visit, void *arg)
{
    State *st = state_of(module);
#define X(slot, value) Py_VISIT(slot);
    STATE_STRINGS(st)
#undef X
    return grammar_traverse(&st->grammar, visit, arg);
}

static int
module_clear(PyObject *module)
{
    State *st = state_of(module);
#define X(slot, value) Py_CLEAR(slot);
    STATE_STRINGS(st)
#undef X
    grammar_clear(&st->grammar);
    return 0;
}

static void
module_free(void *module)
{
    module_clear((PyObject *)module);
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, module_exec},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_speedups",
    .m_doc = "The loops of the diff that run once per block, compiled.",
    .m_size = sizeof(State),
    .m_methods = methods,
    .m_slots = slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModuleDef_Init(&module_def);
}
