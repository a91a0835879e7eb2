/* The phrase scan of the rules engine in C: every key of a PhraseMatcher found in one pass.
 *
 * The matcher's keys are words between single spaces (" export controls "), and so is the
 * text it searches (normalised); what the engine wants of a text is one thing: the set of the
 * values of every key in it. pyahocorasick does that search a character at a time and hands
 * each match to Python as an (end, value) tuple, which Python code then flattens into a set.
 * This module searches a word at a time and returns the set.
 *
 *     scanner = Scanner(keys, values)   # keys: list[str]; values: list[tuple[int, ...]]
 *     scanner.find(text) -> set[int]     # the values of every key found in text
 *     len(scanner)                       # how many keys
 *
 *     scanner = Scanner(keys, values, payloads)   # payloads: one object per key
 *     scanner.matches(text) -> [(end, payload), ...]
 *         # every occurrence, as pyahocorasick's iter() reports it: by end (the index of the
 *         # key's last character), the longest key first (the frame reader's tokens)
 *
 * A word at a time: each key is a sequence of word ids, and the keys form an Aho-Corasick
 * automaton over words (a trie of word sequences with failure links). A search reads the text's
 * words, looks each up in a hash table of the keys' words (a word no key has sends the search
 * back to the root) and takes one step of the automaton per word. A search that steps per
 * character visits a different state for nearly every letter of a word some key starts with
 * (most words of a news text, with a few thousand phrases), and each state is a random place
 * in a table of megabytes (8 MB for 12,000 keys): measured, nearly all of its time went
 * waiting for memory. Per word, it takes a fifth of the steps in tables a fifth of the size.
 *
 * Why this finds exactly what a character search finds: a key " w1 ... wn " (single spaces,
 * no space inside a word) occurs in a text exactly where n consecutive pieces of the text split
 * at every space are w1 ... wn, the first of them after a space (not the text's first piece)
 * and the last followed by one (not the text's last piece). A key of any other shape is
 * refused. A test compares this scanner with pyahocorasick on the corpus and on random text.
 *
 * The tables are bounded by the keys (the rules), never by a text: `find` takes one pass and a
 * bitmap of the values already added, `matches` a list as long as the text's matches. Only the
 * keys fill the hash tables, so no text can lengthen a probe.
 *
 * The module also holds Picker (which rules can fire, given the phrases found) and squeeze
 * (ASCII text single-spaced), each described where it is defined.
 *
 * Built by `python -m service.native build` next to the mypyc modules; without a build the
 * engine uses pyahocorasick and Python and gets the same results.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One word of the keys, in the word table: its hash, and its characters in `chars`. While the
 * trie is built the table is sized for every word the keys have, then packed to the distinct
 * words (fewer slots: more of them in the processor's cache). */
typedef struct {
    uint32_t hash; /* the hash's high half (the low bits pick the slot) */
    int32_t id;    /* -1: an empty slot */
    int32_t start;
    int32_t length;
    /* The root's child by this word (-1: no key starts with it): a step from the root, the
     * commonest, needs no look in the edge table. Set when the tables are packed. */
    int32_t root_child;
    /* A word of at most 8 characters below U+0100 is compared as one number, `packed` (one
     * byte per character), not in `chars` (which would be one more read of memory). */
    int32_t is_packed;
    uint64_t packed;
} WordSlot;

/* One edge of the trie, in the edge table: (state << 32 | word id) -> the child state. */
typedef struct {
    uint64_t key; /* EMPTY_EDGE: an empty slot */
    int32_t child;
} EdgeSlot;

/* What a search needs of a state, in one place (one read of memory per step, not four). */
typedef struct {
    int32_t fail;      /* where a step that finds no edge goes next */
    int32_t dict_link; /* the nearest state on the failure chain where a key ends, or -1 */
    int32_t out_start; /* the values of the key that ends here: outputs[out_start ...] */
    int32_t out_count;
    int32_t key; /* the key that ends here, or -1 */
} StateInfo;

/* One value a state yields, with its bit in the bitmap of values added. */
typedef struct {
    PyObject *number; /* borrowed from Scanner.numbers */
    Py_ssize_t bit;
} Output;

#define EMPTY_EDGE UINT64_MAX
/* Free an array a struct owns and forget it, so freeing twice (a failed rebuild, then dealloc)
 * is harmless. */
#define CLEAR_ARRAY(pointer) \
    do {                     \
        PyMem_Free(pointer); \
        (pointer) = NULL;    \
    } while (0)
/* A trie's states and a table's slots are counted in int32. */
#define MAX_ITEMS (INT32_MAX / 4)

typedef struct {
    PyObject_HEAD
    Py_ssize_t nkeys;
    Py_ssize_t nstates;
    /* The keys' words: a table of 2^k slots, their characters in one array. */
    WordSlot *words;
    uint64_t word_mask;
    Py_UCS4 *chars;
    Py_ssize_t nwords;
    /* The trie's edges: a table of 2^k slots. */
    EdgeSlot *edges;
    uint64_t edge_mask;
    /* Per state, while the automaton is built (then packed into `states`): where a failed step
     * goes, the key that ends there (-1: none), and the nearest state on its failure chain where
     * a key ends (-1: none). */
    int32_t *fail;
    int32_t *terminal;
    int32_t *dict_link;
    /* The same, packed for the search, and every state's values in state order. */
    StateInfo *states;
    Output *outputs;
    /* Each key's values: values[value_start[k] .. value_start[k + 1]]. */
    Py_ssize_t *value_start;
    long *values;
    /* The smallest value, and how many distinct values fit between it and the largest: the
     * size of the bitmap that keeps a value from being added twice. */
    long value_min;
    Py_ssize_t value_span;
    /* values[i] as a Python int, made once: a search adds these to its set. */
    PyObject **numbers;
    /* What `matches` reports for each key (a tuple, one item per key), or NULL: the key's index. */
    PyObject *payloads;
} Scanner;

static void
scanner_free_arrays(Scanner *self)
{
    if (self->numbers != NULL) {
        for (Py_ssize_t i = 0; i < self->value_start[self->nkeys]; i++)
            Py_XDECREF(self->numbers[i]);
    }
    CLEAR_ARRAY(self->numbers);
    CLEAR_ARRAY(self->words);
    CLEAR_ARRAY(self->chars);
    CLEAR_ARRAY(self->edges);
    CLEAR_ARRAY(self->fail);
    CLEAR_ARRAY(self->terminal);
    CLEAR_ARRAY(self->dict_link);
    CLEAR_ARRAY(self->states);
    CLEAR_ARRAY(self->outputs);
    CLEAR_ARRAY(self->value_start);
    CLEAR_ARRAY(self->values);
    self->nwords = 0;
    self->nstates = 0;
    self->word_mask = self->edge_mask = 0;
    self->value_span = 0;
}

static int
scanner_traverse(Scanner *self, visitproc visit, void *arg)
{
    Py_VISIT(self->payloads);
    return 0;
}

static int
scanner_clear(Scanner *self)
{
    Py_CLEAR(self->payloads);
    return 0;
}

static void
scanner_dealloc(Scanner *self)
{
    PyObject_GC_UnTrack(self);
    scanner_clear(self);
    scanner_free_arrays(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* FNV-1a over code points, then a final mix (the table uses the low bits). */
#define HASH_START UINT64_C(0xcbf29ce484222325)
#define HASH_STEP(h, ch) (((h) ^ (uint64_t)(ch)) * UINT64_C(0x100000001b3))

static inline uint64_t
hash_end(uint64_t h)
{
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    return h;
}

static inline uint64_t
edge_hash(uint64_t key)
{
    return hash_end(key * UINT64_C(0x9e3779b97f4a7c15));
}

/* The id of a word (the `length` characters at `data` + `start`, of `kind`), or -1. */
static inline int32_t
word_id(const Scanner *self, uint64_t hash, int kind, const void *data, Py_ssize_t start, Py_ssize_t length)
{
    for (uint64_t slot = hash & self->word_mask;; slot = (slot + 1) & self->word_mask) {
        const WordSlot *entry = &self->words[slot];
        if (entry->id < 0)
            return -1;
        if (entry->hash != (uint32_t)(hash >> 32) || entry->length != length)
            continue;
        const Py_UCS4 *chars = self->chars + entry->start;
        Py_ssize_t i = 0;
        while (i < length && chars[i] == PyUnicode_READ(kind, data, start + i))
            i++;
        if (i == length)
            return entry->id;
    }
}

/* The slot of the word that is `length` characters of `data` from `start` (its hash, and
 * `packed` if `packable`: see WordSlot), or NULL when no key has it. */
static inline const WordSlot *
find_word(const Scanner *self, uint64_t hash, uint64_t packed, int packable, int kind, const void *data,
          Py_ssize_t start, Py_ssize_t length)
{
    uint32_t high = (uint32_t)(hash >> 32);
    for (uint64_t slot = hash & self->word_mask;; slot = (slot + 1) & self->word_mask) {
        const WordSlot *entry = &self->words[slot];
        if (entry->id < 0)
            return NULL;
        if (entry->hash != high || entry->length != length)
            continue;
        if (entry->is_packed) {
            if (packable && entry->packed == packed)
                return entry;
            continue;
        }
        const Py_UCS4 *chars = self->chars + entry->start;
        Py_ssize_t i = 0;
        while (i < length && chars[i] == PyUnicode_READ(kind, data, start + i))
            i++;
        if (i == length)
            return entry;
    }
}

/* The child of `state` by word `word`, or -1. */
static inline int32_t
child_of(const Scanner *self, int32_t state, int32_t word)
{
    uint64_t key = ((uint64_t)(uint32_t)state << 32) | (uint32_t)word;
    for (uint64_t slot = edge_hash(key) & self->edge_mask;; slot = (slot + 1) & self->edge_mask) {
        const EdgeSlot *entry = &self->edges[slot];
        if (entry->key == key)
            return entry->child;
        if (entry->key == EMPTY_EDGE)
            return -1;
    }
}

/* The smallest power of two at least twice `count` (and at least 8). */
static uint64_t
table_size(Py_ssize_t count)
{
    uint64_t size = 8;
    while (size < (uint64_t)count * 2)
        size <<= 1;
    return size;
}

/* Check that every key is words between single spaces; count its words and their characters. */
static int
check_keys(PyObject *keys, Py_ssize_t *total_words, Py_ssize_t *total_chars)
{
    Py_ssize_t words = 0, chars = 0;
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(keys); k++) {
        PyObject *key = PyList_GET_ITEM(keys, k);
        if (!PyUnicode_Check(key)) {
            PyErr_Format(PyExc_TypeError, "key %zd is not a str", k);
            return -1;
        }
        int kind = PyUnicode_KIND(key);
        const void *data = PyUnicode_DATA(key);
        Py_ssize_t length = PyUnicode_GET_LENGTH(key);
        int shaped = length >= 3 && PyUnicode_READ(kind, data, 0) == ' '
                     && PyUnicode_READ(kind, data, length - 1) == ' ';
        for (Py_ssize_t i = 1; shaped && i < length; i++) {
            if (PyUnicode_READ(kind, data, i) == ' ') {
                if (PyUnicode_READ(kind, data, i - 1) == ' ')
                    shaped = 0;
                else
                    words++;
            }
            else
                chars++;
        }
        if (!shaped) {
            PyErr_Format(PyExc_ValueError, "key %zd (%R) is not words between single spaces", k, key);
            return -1;
        }
    }
    if (words > MAX_ITEMS || chars > MAX_ITEMS) {
        PyErr_SetString(PyExc_MemoryError, "too many phrases for one scanner");
        return -1;
    }
    *total_words = words;
    *total_chars = chars;
    return 0;
}

/* The word table (every distinct word of the keys, numbered) and the trie of the keys as word
 * sequences: per state its parent and the word that leads to it, and the edge table. */
static int
build_trie(Scanner *self, PyObject *keys, int32_t **parent_out, int32_t **via_out)
{
    Py_ssize_t total_words, total_chars;
    if (check_keys(keys, &total_words, &total_chars) < 0)
        return -1;
    uint64_t word_slots = table_size(total_words), edge_slots = table_size(total_words);
    self->words = PyMem_New(WordSlot, word_slots);
    self->chars = PyMem_New(Py_UCS4, total_chars ? total_chars : 1);
    self->edges = PyMem_New(EdgeSlot, edge_slots);
    /* A trie has at most one state per word of the keys, and the root. */
    self->terminal = PyMem_New(int32_t, total_words + 1);
    int32_t *parent = PyMem_New(int32_t, total_words + 1);
    int32_t *via = PyMem_New(int32_t, total_words + 1);
    *parent_out = parent;
    *via_out = via;
    if (self->words == NULL || self->chars == NULL || self->edges == NULL || self->terminal == NULL
        || parent == NULL || via == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (uint64_t i = 0; i < word_slots; i++)
        self->words[i].id = -1;
    for (uint64_t i = 0; i < edge_slots; i++)
        self->edges[i].key = EMPTY_EDGE;
    self->word_mask = word_slots - 1;
    self->edge_mask = edge_slots - 1;
    self->nstates = 1;
    self->terminal[0] = -1;
    parent[0] = via[0] = -1;
    Py_ssize_t nwords = 0, used_chars = 0;
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(keys); k++) {
        PyObject *key = PyList_GET_ITEM(keys, k);
        int kind = PyUnicode_KIND(key);
        const void *data = PyUnicode_DATA(key);
        Py_ssize_t length = PyUnicode_GET_LENGTH(key);
        int32_t state = 0;
        Py_ssize_t start = 1;
        uint64_t hash = HASH_START;
        for (Py_ssize_t i = 1; i < length; i++) {
            Py_UCS4 ch = PyUnicode_READ(kind, data, i);
            if (ch != ' ') {
                hash = HASH_STEP(hash, ch);
                continue;
            }
            /* The word data[start:i]: its id, new if no key had it. */
            hash = hash_end(hash);
            int32_t word = word_id(self, hash, kind, data, start, i - start);
            if (word < 0) {
                uint64_t slot = hash & self->word_mask;
                while (self->words[slot].id >= 0)
                    slot = (slot + 1) & self->word_mask;
                word = (int32_t)nwords++;
                self->words[slot] = (WordSlot){(uint32_t)(hash >> 32), word, (int32_t)used_chars, (int32_t)(i - start), -1, 0, 0};
                for (Py_ssize_t j = start; j < i; j++)
                    self->chars[used_chars++] = PyUnicode_READ(kind, data, j);
            }
            int32_t next = child_of(self, state, word);
            if (next < 0) {
                next = (int32_t)self->nstates++;
                uint64_t edge = ((uint64_t)(uint32_t)state << 32) | (uint32_t)word;
                uint64_t slot = edge_hash(edge) & self->edge_mask;
                while (self->edges[slot].key != EMPTY_EDGE)
                    slot = (slot + 1) & self->edge_mask;
                self->edges[slot] = (EdgeSlot){edge, next};
                self->terminal[next] = -1;
                parent[next] = state;
                via[next] = word;
            }
            state = next;
            start = i + 1;
            hash = HASH_START;
        }
        /* The same key twice: the later values replace the earlier, as pyahocorasick's
         * add_word does. */
        self->terminal[state] = (int32_t)k;
    }
    self->nwords = nwords;
    return 0;
}

/* Failure and dictionary links, states taken in breadth-first order (a state's failure is
 * shallower than it, so it is done before it). */
static int
build_links(Scanner *self, const int32_t *parent, const int32_t *via)
{
    Py_ssize_t nstates = self->nstates;
    int32_t *depth = PyMem_New(int32_t, nstates);
    Py_ssize_t *at_depth = PyMem_New(Py_ssize_t, nstates + 1);
    int32_t *order = PyMem_New(int32_t, nstates);
    self->fail = PyMem_New(int32_t, nstates);
    self->dict_link = PyMem_New(int32_t, nstates);
    if (depth == NULL || at_depth == NULL || order == NULL || self->fail == NULL || self->dict_link == NULL) {
        PyMem_Free(depth);
        PyMem_Free(at_depth);
        PyMem_Free(order);
        PyErr_NoMemory();
        return -1;
    }
    /* A parent is made before its children: depths in one pass, then a counting sort. */
    memset(at_depth, 0, sizeof(Py_ssize_t) * (size_t)(nstates + 1));
    depth[0] = 0;
    for (Py_ssize_t s = 1; s < nstates; s++) {
        depth[s] = depth[parent[s]] + 1;
        at_depth[depth[s]]++;
    }
    Py_ssize_t running = 0;
    for (Py_ssize_t d = 0; d <= nstates; d++) {
        Py_ssize_t here = at_depth[d];
        at_depth[d] = running;
        running += here;
    }
    for (Py_ssize_t s = 1; s < nstates; s++)
        order[at_depth[depth[s]]++] = (int32_t)s;
    self->fail[0] = 0;
    self->dict_link[0] = -1;
    for (Py_ssize_t i = 0; i < nstates - 1; i++) {
        int32_t state = order[i], to = 0;
        if (parent[state] != 0) {
            for (int32_t back = self->fail[parent[state]];; back = self->fail[back]) {
                int32_t child = child_of(self, back, via[state]);
                if (child >= 0) {
                    to = child;
                    break;
                }
                if (back == 0)
                    break;
            }
        }
        self->fail[state] = to;
        self->dict_link[state] = self->terminal[to] >= 0 ? to : self->dict_link[to];
    }
    PyMem_Free(depth);
    PyMem_Free(at_depth);
    PyMem_Free(order);
    return 0;
}

static int
build_values(Scanner *self, PyObject *values)
{
    Py_ssize_t nkeys = self->nkeys, total = 0;
    for (Py_ssize_t k = 0; k < nkeys; k++) {
        PyObject *group = PyList_GET_ITEM(values, k);
        if (!PyTuple_Check(group)) {
            PyErr_Format(PyExc_TypeError, "the values of key %zd are not a tuple of ints", k);
            return -1;
        }
        total += PyTuple_GET_SIZE(group);
    }
    self->value_start = PyMem_New(Py_ssize_t, nkeys + 1);
    self->values = PyMem_New(long, total ? total : 1);
    if (self->value_start == NULL || self->values == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    long low = 0, high = -1;
    Py_ssize_t at = 0;
    for (Py_ssize_t k = 0; k < nkeys; k++) {
        PyObject *group = PyList_GET_ITEM(values, k);
        self->value_start[k] = at;
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(group); i++) {
            long value = PyLong_AsLong(PyTuple_GET_ITEM(group, i));
            if (value == -1 && PyErr_Occurred())
                return -1;
            if (at == 0 || value < low)
                low = value;
            if (at == 0 || value > high)
                high = value;
            self->values[at++] = value;
        }
    }
    self->value_start[nkeys] = at;
    self->numbers = PyMem_New(PyObject *, at ? at : 1);
    if (self->numbers == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memset(self->numbers, 0, sizeof(PyObject *) * (size_t)(at ? at : 1));
    for (Py_ssize_t i = 0; i < at; i++) {
        self->numbers[i] = PyLong_FromLong(self->values[i]);
        if (self->numbers[i] == NULL)
            return -1;
    }
    /* The bitmap is allocated per search: keep its size that of the rules' own numbering. */
    if (at > 0 && (unsigned long)high - (unsigned long)low >= (unsigned long)(16 * 1024 * 1024)) {
        PyErr_SetString(PyExc_ValueError, "values must lie within a range of 16,777,216");
        return -1;
    }
    self->value_min = at ? low : 0;
    self->value_span = at ? (Py_ssize_t)(high - low + 1) : 0;
    return 0;
}

/* Tables for the search: the word and edge tables rehashed to fit what they hold (the
 * trie was built with room for every word of every key), and each state's links and values
 * gathered into StateInfo and Output records. */
static int
pack(Scanner *self)
{
    uint64_t word_slots = table_size(self->nwords), edge_slots = table_size(self->nstates - 1);
    WordSlot *words = PyMem_New(WordSlot, word_slots);
    EdgeSlot *edges = PyMem_New(EdgeSlot, edge_slots);
    StateInfo *states = PyMem_New(StateInfo, self->nstates);
    Py_ssize_t total = 0;
    for (Py_ssize_t s = 0; s < self->nstates; s++) {
        int32_t key = self->terminal[s];
        if (key >= 0)
            total += self->value_start[key + 1] - self->value_start[key];
    }
    Output *outputs = PyMem_New(Output, total ? total : 1);
    if (words == NULL || edges == NULL || states == NULL || outputs == NULL) {
        PyMem_Free(words);
        PyMem_Free(edges);
        PyMem_Free(states);
        PyMem_Free(outputs);
        PyErr_NoMemory();
        return -1;
    }
    for (uint64_t i = 0; i < word_slots; i++)
        words[i].id = -1;
    for (uint64_t i = 0; i <= self->word_mask; i++) {
        WordSlot entry = self->words[i];
        if (entry.id < 0)
            continue;
        /* The slot came from the full hash's low bits; its high half is what is kept. Rehash
         * by the same low bits: recompute them from the characters. */
        uint64_t hash = HASH_START;
        for (int32_t j = 0; j < entry.length; j++)
            hash = HASH_STEP(hash, self->chars[entry.start + j]);
        hash = hash_end(hash);
        uint64_t slot = hash & (word_slots - 1);
        while (words[slot].id >= 0)
            slot = (slot + 1) & (word_slots - 1);
        entry.root_child = child_of(self, 0, entry.id);
        if (entry.length <= 8) {
            entry.is_packed = 1;
            for (int32_t j = 0; j < entry.length; j++) {
                Py_UCS4 ch = self->chars[entry.start + j];
                if (ch >= 256) {
                    entry.is_packed = 0;
                    entry.packed = 0;
                    break;
                }
                entry.packed |= (uint64_t)ch << (8 * j);
            }
        }
        words[slot] = entry;
    }
    for (uint64_t i = 0; i < edge_slots; i++)
        edges[i].key = EMPTY_EDGE;
    for (uint64_t i = 0; i <= self->edge_mask; i++) {
        EdgeSlot entry = self->edges[i];
        if (entry.key == EMPTY_EDGE)
            continue;
        uint64_t slot = edge_hash(entry.key) & (edge_slots - 1);
        while (edges[slot].key != EMPTY_EDGE)
            slot = (slot + 1) & (edge_slots - 1);
        edges[slot] = entry;
    }
    Py_ssize_t at = 0;
    for (Py_ssize_t s = 0; s < self->nstates; s++) {
        int32_t key = self->terminal[s];
        states[s] = (StateInfo){self->fail[s], self->dict_link[s], (int32_t)at, 0, key};
        if (key < 0)
            continue;
        for (Py_ssize_t i = self->value_start[key]; i < self->value_start[key + 1]; i++) {
            outputs[at++] = (Output){self->numbers[i], (Py_ssize_t)(self->values[i] - self->value_min)};
            states[s].out_count++;
        }
    }
    PyMem_Free(self->words);
    PyMem_Free(self->edges);
    CLEAR_ARRAY(self->fail);
    CLEAR_ARRAY(self->terminal);
    CLEAR_ARRAY(self->dict_link);
    self->words = words;
    self->word_mask = word_slots - 1;
    self->edges = edges;
    self->edge_mask = edge_slots - 1;
    self->states = states;
    self->outputs = outputs;
    return 0;
}

static int
scanner_init(Scanner *self, PyObject *args, PyObject *kwargs)
{
    static char *names[] = {"keys", "values", "payloads", NULL};
    PyObject *keys, *values, *payloads = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!O!|O!:Scanner", names, &PyList_Type, &keys, &PyList_Type, &values,
                                     &PyList_Type, &payloads))
        return -1;
    if (PyList_GET_SIZE(keys) != PyList_GET_SIZE(values)
        || (payloads != NULL && PyList_GET_SIZE(payloads) != PyList_GET_SIZE(keys))) {
        PyErr_SetString(PyExc_ValueError, "keys and values differ in length");
        return -1;
    }
    scanner_clear(self);
    scanner_free_arrays(self);
    if (payloads != NULL && (self->payloads = PyList_AsTuple(payloads)) == NULL)
        return -1;
    self->nkeys = PyList_GET_SIZE(keys);
    int32_t *parent = NULL, *via = NULL;
    int failed = build_trie(self, keys, &parent, &via) < 0 || build_links(self, parent, via) < 0
                 || build_values(self, values) < 0 || pack(self) < 0;
    PyMem_Free(parent);
    PyMem_Free(via);
    if (failed) {
        scanner_clear(self);
        scanner_free_arrays(self);
        self->nkeys = 0;
        return -1;
    }
    return 0;
}

/* Add the values of every key that ends at `state`. */
static inline int
emit(const Scanner *self, int32_t state, unsigned char *seen, PyObject *found)
{
    const StateInfo *states = self->states;
    if (states[state].out_count == 0)
        state = states[state].dict_link;
    while (state >= 0) {
        const Output *out = self->outputs + states[state].out_start, *end = out + states[state].out_count;
        for (; out < end; out++) {
            Py_ssize_t bit = out->bit;
            if (seen[bit >> 3] & (1u << (bit & 7)))
                continue;
            seen[bit >> 3] |= (unsigned char)(1u << (bit & 7));
            if (PySet_Add(found, out->number) < 0)
                return -1;
        }
        state = states[state].dict_link;
    }
    return 0;
}

/* The search, for one kind of str (READ(i) is the text's i-th character): pieces of the text
 * between spaces, the first and the last left out (see the top of this file). */
#define SCAN_WORDS(READ, HAS_OUTPUT, EMIT)                                                 \
    do {                                                                                   \
        Py_ssize_t i = 0;                                                                  \
        while (i < length && READ(i) != ' ')                                               \
            i++;                                                                           \
        int32_t state = 0;                                                                 \
        while (i < length) {                                                               \
            Py_ssize_t start = i + 1, end = start;                                         \
            uint64_t hash = HASH_START, packed = 0;                                        \
            int packable = 1;                                                              \
            Py_UCS4 ch;                                                                    \
            while (end < length && (ch = READ(end)) != ' ') {                              \
                hash = HASH_STEP(hash, ch);                                                \
                if (end - start < 8 && ch < 256)                                           \
                    packed |= (uint64_t)ch << (8 * (end - start));                         \
                else                                                                       \
                    packable = 0;                                                          \
                end++;                                                                     \
            }                                                                              \
            if (end >= length)                                                             \
                break;                                                                     \
            const WordSlot *word = end > start                                             \
                ? find_word(self, hash_end(hash), packed, packable, kind, data, start, end - start) : NULL; \
            if (word == NULL)                                                              \
                state = 0;                                                                 \
            else {                                                                         \
                for (;;) {                                                                 \
                    if (state == 0) {                                                      \
                        state = word->root_child >= 0 ? word->root_child : 0;              \
                        break;                                                             \
                    }                                                                      \
                    int32_t next = child_of(self, state, word->id);                        \
                    if (next >= 0) {                                                       \
                        state = next;                                                      \
                        break;                                                             \
                    }                                                                      \
                    state = states[state].fail;                                            \
                }                                                                          \
            }                                                                              \
            if (HAS_OUTPUT(state) && EMIT(state) < 0)                                      \
                goto error;                                                                \
            i = end;                                                                       \
        }                                                                                  \
    } while (0)

#define READ_UCS1(i) ((Py_UCS4)((const Py_UCS1 *)data)[i])
#define READ_ANY(i) PyUnicode_READ(kind, data, (i))

/* 0 if `text` is a str; else -1 with the TypeError `method` raises. */
static int
check_str(const char *method, PyObject *text)
{
    if (PyUnicode_Check(text))
        return 0;
    PyErr_Format(PyExc_TypeError, "%s() takes a str, not %.100s", method, Py_TYPE(text)->tp_name);
    return -1;
}

static PyObject *
scanner_find(Scanner *self, PyObject *text)
{
    if (check_str("find", text) < 0)
        return NULL;
    PyObject *found = PySet_New(NULL);
    if (found == NULL || self->nstates <= 1)
        return found;
    unsigned char small[512];
    size_t bytes = (size_t)(self->value_span + 7) / 8;
    unsigned char *seen = bytes <= sizeof(small) ? small : PyMem_Malloc(bytes);
    if (seen == NULL) {
        Py_DECREF(found);
        return PyErr_NoMemory();
    }
    memset(seen, 0, bytes);
    const StateInfo *states = self->states;
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
#define HAS_VALUES(state) (states[state].out_count > 0 || states[state].dict_link >= 0)
#define EMIT_VALUES(state) emit(self, state, seen, found)
    if (kind == PyUnicode_1BYTE_KIND)
        SCAN_WORDS(READ_UCS1, HAS_VALUES, EMIT_VALUES);
    else
        SCAN_WORDS(READ_ANY, HAS_VALUES, EMIT_VALUES);
    if (seen != small)
        PyMem_Free(seen);
    return found;
error:
    if (seen != small)
        PyMem_Free(seen);
    Py_DECREF(found);
    return NULL;
}

/* Append (end, payload) for every key that ends at `state`, the text's `end`-th character being
 * the space after it: the longest first, as pyahocorasick's iter() reports them. */
static int
report(const Scanner *self, int32_t state, Py_ssize_t end, PyObject *out)
{
    const StateInfo *states = self->states;
    if (states[state].key < 0)
        state = states[state].dict_link;
    while (state >= 0) {
        int32_t key = states[state].key;
        PyObject *hit = PyTuple_New(2), *where = PyLong_FromSsize_t(end);
        PyObject *payload = self->payloads != NULL ? PyTuple_GET_ITEM(self->payloads, key) : NULL;
        payload = payload != NULL ? Py_NewRef(payload) : PyLong_FromLong(key);
        if (hit == NULL || where == NULL || payload == NULL) {
            Py_XDECREF(hit);
            Py_XDECREF(where);
            Py_XDECREF(payload);
            return -1;
        }
        PyTuple_SET_ITEM(hit, 0, where);
        PyTuple_SET_ITEM(hit, 1, payload);
        int failed = PyList_Append(out, hit);
        Py_DECREF(hit);
        if (failed < 0)
            return -1;
        state = states[state].dict_link;
    }
    return 0;
}

/* matches(text) -> [(end, payload), ...]: every occurrence of every key, in the order
 * pyahocorasick's iter() gives them (by end, then longest first); `end` is the index of the
 * key's last character (the space after its last word). */
static PyObject *
scanner_matches(Scanner *self, PyObject *text)
{
    if (check_str("matches", text) < 0)
        return NULL;
    PyObject *found = PyList_New(0);
    if (found == NULL || self->nstates <= 1)
        return found;
    const StateInfo *states = self->states;
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
#define HAS_KEY(state) (states[state].key >= 0 || states[state].dict_link >= 0)
#define REPORT(state) report(self, state, end, found)
    if (kind == PyUnicode_1BYTE_KIND)
        SCAN_WORDS(READ_UCS1, HAS_KEY, REPORT);
    else
        SCAN_WORDS(READ_ANY, HAS_KEY, REPORT);
    return found;
error:
    Py_DECREF(found);
    return NULL;
}

static Py_ssize_t
scanner_length(Scanner *self)
{
    return self->nkeys;
}

static PyObject *
scanner_sizeof(Scanner *self, PyObject *Py_UNUSED(ignored))
{
    size_t size = sizeof(Scanner);
    if (self->nstates > 0) {
        size += (size_t)(self->word_mask + 1) * sizeof(WordSlot) + (size_t)(self->edge_mask + 1) * sizeof(EdgeSlot)
                + (size_t)self->nstates * sizeof(StateInfo) + (size_t)self->nwords * sizeof(Py_UCS4);
        size += (size_t)(self->nkeys + 1) * sizeof(Py_ssize_t)
                + (size_t)self->value_start[self->nkeys] * (sizeof(long) + sizeof(PyObject *) + sizeof(Output));
    }
    return PyLong_FromSize_t(size);
}

static PyMethodDef scanner_methods[] = {
    {"find", (PyCFunction)scanner_find, METH_O, "find(text) -> set of the values of every key found in text"},
    {"matches", (PyCFunction)scanner_matches, METH_O,
     "matches(text) -> [(end, payload)] for every occurrence of every key, as pyahocorasick's iter() gives them"},
    {"__sizeof__", (PyCFunction)scanner_sizeof, METH_NOARGS, "memory held by the tables"},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods scanner_as_sequence = {
    .sq_length = (lenfunc)scanner_length,
};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "service.rules._scanner.Scanner",
    .tp_basicsize = sizeof(Scanner),
    .tp_dealloc = (destructor)scanner_dealloc,
    .tp_as_sequence = &scanner_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)scanner_traverse,
    .tp_clear = (inquiry)scanner_clear,
    .tp_doc = "Scanner(keys, values, payloads=None): every key found in a text in one pass; find(text) -> set of "
              "their values, matches(text) -> [(end, payload)] for each occurrence",
    .tp_methods = scanner_methods,
    .tp_init = (initproc)scanner_init,
    .tp_new = PyType_GenericNew,
};

/* Picker(clauses, nphrases): which rules can fire, given the phrases found in an article.
 *
 *     picker = Picker(clauses, nphrases)  # clauses: per rule, a tuple of clauses, each a tuple
 *                                         # of phrase ids (0 <= id < nphrases)
 *     picker.pick(found) -> list[int]     # found: a set of phrase ids; the rules (in order) all
 *                                         # of whose clauses have a phrase in it
 *
 * A rule with no clauses is always picked; one with an empty clause never is. Each rule is
 * reached through its smallest clause (its anchor: only the rules anchored on a phrase found
 * are looked at), and the phrases found are a bitmap for the rest, where Python tested each
 * candidate's clauses against the set of found phrases with a hash lookup per phrase. */

typedef struct {
    PyObject_HEAD
    Py_ssize_t nrules;
    Py_ssize_t nphrases;
    /* The rules anchored on phrase p: anchored[anchor_start[p] .. anchor_start[p + 1]]. */
    Py_ssize_t *anchor_start;
    int32_t *anchored;
    /* Rule r's clauses: clause c in clause_start[r] .. clause_start[r + 1], its phrase ids
     * ids[id_start[c] .. id_start[c + 1]]. */
    Py_ssize_t *clause_start;
    Py_ssize_t *id_start;
    int32_t *ids;
    /* The rules with no clause, and each rule's index as a Python int. */
    int32_t *always;
    Py_ssize_t nalways;
    PyObject **numbers;
} Picker;

static void
picker_free(Picker *self)
{
    if (self->numbers != NULL) {
        for (Py_ssize_t r = 0; r < self->nrules; r++)
            Py_XDECREF(self->numbers[r]);
    }
    CLEAR_ARRAY(self->numbers);
    CLEAR_ARRAY(self->anchor_start);
    CLEAR_ARRAY(self->anchored);
    CLEAR_ARRAY(self->clause_start);
    CLEAR_ARRAY(self->id_start);
    CLEAR_ARRAY(self->ids);
    CLEAR_ARRAY(self->always);
    self->nrules = self->nphrases = self->nalways = 0;
}

static void
picker_dealloc(Picker *self)
{
    picker_free(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
picker_init(Picker *self, PyObject *args, PyObject *kwargs)
{
    static char *names[] = {"clauses", "nphrases", NULL};
    PyObject *rules;
    Py_ssize_t nphrases;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!n:Picker", names, &PyList_Type, &rules, &nphrases))
        return -1;
    picker_free(self);
    Py_ssize_t nrules = PyList_GET_SIZE(rules), nclauses = 0, nids = 0;
    if (nphrases < 0 || nphrases > MAX_ITEMS || nrules > MAX_ITEMS) {
        PyErr_SetString(PyExc_ValueError, "nphrases and the number of rules must lie between 0 and 536,870,911");
        return -1;
    }
    for (Py_ssize_t r = 0; r < nrules; r++) {
        PyObject *clauses = PyList_GET_ITEM(rules, r);
        if (!PyTuple_Check(clauses)) {
            PyErr_Format(PyExc_TypeError, "the clauses of rule %zd are not a tuple", r);
            return -1;
        }
        for (Py_ssize_t c = 0; c < PyTuple_GET_SIZE(clauses); c++) {
            PyObject *clause = PyTuple_GET_ITEM(clauses, c);
            if (!PyTuple_Check(clause)) {
                PyErr_Format(PyExc_TypeError, "clause %zd of rule %zd is not a tuple of phrase ids", c, r);
                return -1;
            }
            nclauses++;
            nids += PyTuple_GET_SIZE(clause);
        }
    }
    if (nclauses > MAX_ITEMS || nids > MAX_ITEMS) {
        PyErr_SetString(PyExc_MemoryError, "too many clauses for one picker");
        return -1;
    }
    self->nrules = nrules;
    self->nphrases = nphrases;
    self->anchor_start = PyMem_New(Py_ssize_t, nphrases + 1);
    self->anchored = PyMem_New(int32_t, nrules ? nrules : 1);
    self->clause_start = PyMem_New(Py_ssize_t, nrules + 1);
    self->id_start = PyMem_New(Py_ssize_t, nclauses + 1);
    self->ids = PyMem_New(int32_t, nids ? nids : 1);
    self->always = PyMem_New(int32_t, nrules ? nrules : 1);
    self->numbers = PyMem_New(PyObject *, nrules ? nrules : 1);
    int32_t *anchor_of = PyMem_New(int32_t, nrules ? nrules : 1);
    if (self->anchor_start == NULL || self->anchored == NULL || self->clause_start == NULL || self->id_start == NULL
        || self->ids == NULL || self->always == NULL || self->numbers == NULL || anchor_of == NULL) {
        PyMem_Free(anchor_of);
        picker_free(self);
        PyErr_NoMemory();
        return -1;
    }
    memset(self->numbers, 0, sizeof(PyObject *) * (size_t)(nrules ? nrules : 1));
    memset(self->anchor_start, 0, sizeof(Py_ssize_t) * (size_t)(nphrases + 1));
    Py_ssize_t clause_at = 0, id_at = 0;
    for (Py_ssize_t r = 0; r < nrules; r++) {
        PyObject *clauses = PyList_GET_ITEM(rules, r);
        self->clause_start[r] = clause_at;
        self->numbers[r] = PyLong_FromSsize_t(r);
        if (self->numbers[r] == NULL)
            goto error;
        /* The anchor: the first of the smallest clauses (the likeliest to be missing). */
        Py_ssize_t anchor = -1, smallest = PY_SSIZE_T_MAX;
        for (Py_ssize_t c = 0; c < PyTuple_GET_SIZE(clauses); c++) {
            PyObject *clause = PyTuple_GET_ITEM(clauses, c);
            Py_ssize_t size = PyTuple_GET_SIZE(clause);
            if (size < smallest) {
                smallest = size;
                anchor = clause_at;
            }
            self->id_start[clause_at++] = id_at;
            for (Py_ssize_t i = 0; i < size; i++) {
                Py_ssize_t id = PyLong_AsSsize_t(PyTuple_GET_ITEM(clause, i));
                if (id == -1 && PyErr_Occurred())
                    goto error;
                if (id < 0 || id >= nphrases) {
                    PyErr_Format(PyExc_ValueError, "phrase id %zd of rule %zd is not below nphrases (%zd)", id, r, nphrases);
                    goto error;
                }
                self->ids[id_at++] = (int32_t)id;
            }
        }
        if (anchor < 0)
            self->always[self->nalways++] = (int32_t)r;
        /* A rule is reached through its anchor clause's phrases; one with an empty clause never
         * holds, and is reached through none. */
        anchor_of[r] = anchor >= 0 && smallest > 0 ? (int32_t)anchor : -1;
    }
    self->clause_start[nrules] = clause_at;
    self->id_start[clause_at] = id_at;
    /* The rules anchored on each phrase, in rule order: count, add up, place. */
    Py_ssize_t total = 0;
    for (Py_ssize_t r = 0; r < nrules; r++) {
        if (anchor_of[r] < 0)
            continue;
        for (Py_ssize_t i = self->id_start[anchor_of[r]]; i < self->id_start[anchor_of[r] + 1]; i++)
            self->anchor_start[self->ids[i] + 1]++;
        total += self->id_start[anchor_of[r] + 1] - self->id_start[anchor_of[r]];
    }
    PyMem_Free(self->anchored);
    self->anchored = PyMem_New(int32_t, total ? total : 1);
    Py_ssize_t *fill = PyMem_New(Py_ssize_t, nphrases ? nphrases : 1);
    if (self->anchored == NULL || fill == NULL) {
        PyMem_Free(fill);
        PyErr_NoMemory();
        goto error;
    }
    for (Py_ssize_t p = 0; p < nphrases; p++)
        self->anchor_start[p + 1] += self->anchor_start[p];
    memcpy(fill, self->anchor_start, sizeof(Py_ssize_t) * (size_t)nphrases);
    for (Py_ssize_t r = 0; r < nrules; r++) {
        if (anchor_of[r] < 0)
            continue;
        for (Py_ssize_t i = self->id_start[anchor_of[r]]; i < self->id_start[anchor_of[r] + 1]; i++)
            self->anchored[fill[self->ids[i]]++] = (int32_t)r;
    }
    PyMem_Free(fill);
    PyMem_Free(anchor_of);
    return 0;
error:
    PyMem_Free(anchor_of);
    picker_free(self);
    return -1;
}

static int
compare_int32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static PyObject *
picker_pick(Picker *self, PyObject *found)
{
    if (!PyAnySet_Check(found)) {
        PyErr_Format(PyExc_TypeError, "pick() takes a set of phrase ids, not %.100s", Py_TYPE(found)->tp_name);
        return NULL;
    }
    size_t phrase_bytes = (size_t)(self->nphrases + 7) / 8, rule_bytes = (size_t)(self->nrules + 7) / 8;
    unsigned char small[1024];
    unsigned char *bits = phrase_bytes + rule_bytes <= sizeof(small) ? small : PyMem_Malloc(phrase_bytes + rule_bytes);
    int32_t *picked = PyMem_New(int32_t, self->nrules ? self->nrules : 1);
    if (bits == NULL || picked == NULL) {
        if (bits != small)
            PyMem_Free(bits);
        PyMem_Free(picked);
        return PyErr_NoMemory();
    }
    memset(bits, 0, phrase_bytes + rule_bytes);
    unsigned char *phrase_bits = bits, *rule_bits = bits + phrase_bytes;
    Py_ssize_t pos = 0, count = 0;
    PyObject *item;
    Py_hash_t hash;
    /* The phrases found, as bits (ids outside the rules' numbering, like the engine's checks,
     * name no phrase of a clause). */
    while (_PySet_NextEntry(found, &pos, &item, &hash)) {
        if (!PyLong_CheckExact(item))
            continue;
        Py_ssize_t id = PyLong_AsSsize_t(item);
        if (id == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            continue;
        }
        if (id >= 0 && id < self->nphrases)
            phrase_bits[id >> 3] |= (unsigned char)(1u << (id & 7));
    }
    pos = 0;
    while (_PySet_NextEntry(found, &pos, &item, &hash)) {
        if (!PyLong_CheckExact(item))
            continue;
        Py_ssize_t id = PyLong_AsSsize_t(item);
        if (id < 0 || id >= self->nphrases) {
            PyErr_Clear();
            continue;
        }
        for (Py_ssize_t a = self->anchor_start[id]; a < self->anchor_start[id + 1]; a++) {
            int32_t rule = self->anchored[a];
            if (rule_bits[rule >> 3] & (1u << (rule & 7)))
                continue;
            rule_bits[rule >> 3] |= (unsigned char)(1u << (rule & 7));
            int holds = 1;
            for (Py_ssize_t c = self->clause_start[rule]; holds && c < self->clause_start[rule + 1]; c++) {
                int any = 0;
                for (Py_ssize_t i = self->id_start[c]; i < self->id_start[c + 1]; i++) {
                    int32_t p = self->ids[i];
                    if (phrase_bits[p >> 3] & (1u << (p & 7))) {
                        any = 1;
                        break;
                    }
                }
                holds = any;
            }
            if (holds)
                picked[count++] = rule;
        }
    }
    for (Py_ssize_t a = 0; a < self->nalways; a++)
        picked[count++] = self->always[a];
    if (bits != small)
        PyMem_Free(bits);
    qsort(picked, (size_t)count, sizeof(int32_t), compare_int32);
    PyObject *out = PyList_New(count);
    if (out != NULL) {
        for (Py_ssize_t i = 0; i < count; i++)
            PyList_SET_ITEM(out, i, Py_NewRef(self->numbers[picked[i]]));
    }
    PyMem_Free(picked);
    return out;
}

static PyMethodDef picker_methods[] = {
    {"pick", (PyCFunction)picker_pick, METH_O,
     "pick(found) -> the rules, in order, all of whose clauses have a phrase in the set found"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject PickerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "service.rules._scanner.Picker",
    .tp_basicsize = sizeof(Picker),
    .tp_dealloc = (destructor)picker_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Picker(clauses, nphrases): pick(found) -> the rules all of whose clauses have a phrase found",
    .tp_methods = picker_methods,
    .tp_init = (initproc)picker_init,
    .tp_new = PyType_GenericNew,
};

/* squeeze(text, table): an ASCII text with every character mapped through `table` (128 bytes
 * or more, each below 128), runs of spaces made one, and a space added at each end ("  " when
 * nothing but spaces is left); None when the text is not ASCII. The same as
 *
 *     spaced = " " + text.encode().translate(table).decode() + " "
 *     while "  " in spaced: spaced = spaced.replace("  ", " ")
 *     return spaced if len(spaced) > 1 else "  "
 *
 * in one pass and one allocation. */
static PyObject *
squeeze(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "squeeze() takes 2 arguments (%zd given)", nargs);
        return NULL;
    }
    PyObject *text = args[0], *table = args[1];
    if (!PyUnicode_Check(text) || !PyBytes_Check(table)) {
        PyErr_SetString(PyExc_TypeError, "squeeze() takes a str and a bytes table");
        return NULL;
    }
    if (PyBytes_GET_SIZE(table) < 128) {
        PyErr_SetString(PyExc_ValueError, "the table must map all 128 ASCII characters");
        return NULL;
    }
    const unsigned char *map = (const unsigned char *)PyBytes_AS_STRING(table);
    for (int i = 0; i < 128; i++) {
        if (map[i] >= 128) {
            PyErr_SetString(PyExc_ValueError, "the table must map ASCII to ASCII");
            return NULL;
        }
    }
    if (!PyUnicode_IS_ASCII(text))
        Py_RETURN_NONE;
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    if (length > PY_SSIZE_T_MAX - 2)
        return PyErr_NoMemory();
    const Py_UCS1 *in = PyUnicode_1BYTE_DATA(text);
    char small[1024];
    char *out = (size_t)length + 2 <= sizeof(small) ? small : PyMem_Malloc((size_t)length + 2);
    if (out == NULL)
        return PyErr_NoMemory();
    Py_ssize_t used = 1;
    out[0] = ' ';
    for (Py_ssize_t i = 0; i < length; i++) {
        char c = (char)map[in[i]];
        if (c == ' ' && out[used - 1] == ' ')
            continue;
        out[used++] = c;
    }
    if (out[used - 1] != ' ' || used == 1)
        out[used++] = ' ';
    /* ASCII in, ASCII out: the characters go straight into a new str, with no decoding pass. */
    PyObject *result = PyUnicode_New(used, 127);
    if (result != NULL)
        memcpy(PyUnicode_1BYTE_DATA(result), out, (size_t)used);
    if (out != small)
        PyMem_Free(out);
    return result;
}

static PyMethodDef module_functions[] = {
    {"squeeze", (PyCFunction)(void (*)(void))squeeze, METH_FASTCALL,
     "squeeze(text, table) -> the ASCII text mapped through table, single-spaced and padded; None if not ASCII"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef scanner_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "service.rules._scanner",
    .m_doc = "The rules engine's phrase scan in C (see service/rules/phrases.py).",
    .m_size = -1,
    .m_methods = module_functions,
};

PyMODINIT_FUNC
PyInit__scanner(void)
{
    PyObject *module = PyModule_Create(&scanner_module);
    if (module == NULL)
        return NULL;
    /* Each type is readied and added under its own name (the last part of tp_name). */
    if (PyModule_AddType(module, &ScannerType) < 0 || PyModule_AddType(module, &PickerType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
