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
 *
 * The parts, with what they share in _speedups.h: _speedups_grammar.c (what configure hands
 * over), _speedups_markers.c, _speedups_pieces.c, _speedups_blocks.c, _speedups_words.c and
 * _speedups_entries.c; this file makes the module.
 */
#include "_speedups.h"

PyObject *str_empty, *str_newline, *str_space, *str_heading, *str_article, *str_paragraph,
    *str_item, *str_text, *name_span, *name_lastindex, *name_lower, *name_strip, *key_old_id,
    *key_new_id, *key_kind, *key_text, *key_tokens;

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
    blocks_init();
    return PyModule_Create(&module_def);
}
