/* A model's parameters under PyTorch's state_dict names, saved to and loaded from .npz
 * (nnf/weights.h).
 *
 * Loading is a transaction: the names are matched, and every array is read, checked and
 * converted into a scratch tensor before the first parameter is touched; the commit that
 * follows only copies bits and cannot fail. */
#include "nnf/weights.h"

#include <stdio.h>
#include <string.h>

#include "src/core/alloc.h"
#include "src/core/error.h"
#include "src/io/npy.h"
#include "src/io/npz.h"
#include "src/io/strided.h"
#include "src/nn/nn_internal.h"

/* "<layer>.weight" or "<layer>.<j>": two ints and a word fit in 32 bytes. */
#define NAME_CAP 32

typedef struct {
    int n;
    nnf_tensor **params;        /* borrowed from the layers */
    nnf_tensor **scratch;       /* loading: each parameter's new values */
    size_t *member;             /* loading: the member that holds each parameter */
    char (*names)[NAME_CAP];
    void *block;                /* all of the above, nbytes long */
    size_t nbytes;
} state_dict;

static void state_dict_free(state_dict *s)
{
    for (int k = 0; k < s->n; k++)
        nnf_tensor_free(s->scratch[k]);
    nnf__dealloc(s->block, s->nbytes);
}

static nnf_status state_dict_new(state_dict *s, const nnf_model *model, const nnf__io_ctx *ctx)
{
    memset(s, 0, sizeof *s);
    size_t n = 0;
    int nlayers = nnf_model_num_layers(model);
    for (int i = 0; i < nlayers; i++)
        for (int j = 0; nnf_layer_parameter(nnf_model_layer(model, i), j) != NULL; j++)
            n++;
    s->nbytes = n * (2 * sizeof(nnf_tensor *) + sizeof(size_t) + NAME_CAP);
    s->block = nnf__calloc(s->nbytes);
    if (s->block == NULL)
        return nnf__io_fail(ctx, NNF_ERR_NOMEM, "out of memory for %zu parameter names", n);
    s->params = s->block;
    s->scratch = s->params + n;
    s->member = (size_t *)(s->scratch + n);
    s->names = (char (*)[NAME_CAP])(s->member + n);
    for (int i = 0; i < nlayers; i++) {
        nnf_layer *layer = nnf_model_layer(model, i);
        int builtin = layer->fn == &nnf__lin_fn || layer->fn == &nnf__conv2d_fn;
        for (int j = 0; nnf_layer_parameter(layer, j) != NULL; j++, s->n++) {
            s->params[s->n] = nnf_layer_parameter(layer, j);
            if (builtin)
                snprintf(s->names[s->n], NAME_CAP, "%d.%s", i, j == 0 ? "weight" : "bias");
            else
                snprintf(s->names[s->n], NAME_CAP, "%d.%d", i, j);
        }
    }
    return NNF_OK;
}

nnf_status nnf_model_save_npz(const nnf_model *model, const char *path)
{
    NNF_RETURN_IF(model == NULL || path == NULL, NNF_ERR_NULL,
                  "nnf_model_save_npz: model and path must not be NULL");
    nnf__io_ctx ctx;
    nnf__io_init(&ctx, "nnf_model_save_npz", path);
    state_dict s;
    NNF_FORWARD(state_dict_new(&s, model, &ctx));
    nnf_status st = NNF_OK;
    size_t keys_nbytes = (size_t)s.n * sizeof(const char *);
    const char **keys = s.n > 0 ? nnf__alloc(keys_nbytes) : NULL;
    if (s.n > 0 && keys == NULL)
        st = nnf__io_fail(&ctx, NNF_ERR_NOMEM, "out of memory for %d parameter names", s.n);
    for (int k = 0; k < s.n && st == NNF_OK; k++)
        keys[k] = s.names[k];
    if (st == NNF_OK)
        st = nnf__npz_save(path, s.n, keys, (const nnf_tensor *const *)s.params, 0, &ctx);
    nnf__dealloc(keys, keys_nbytes);
    state_dict_free(&s);
    return st;
}

/* ---- Loading ---- */

static int member_is(const nnf__zip_member *m, const char *name)
{
    size_t len = nnf__npz_key_len(m);
    return strlen(name) == len && memcmp(m->name, name, len) == 0;
}

/* A list of names for a message, in PyTorch's form: "0.weight", "2.bias". Names come
 * from the file too, so they are shown printable and at most 64 bytes long; a list that
 * would not fit in a message ends in ", ..." and says how many it holds. */
typedef struct {
    char text[160];
    size_t used;
    int count, cut;
} name_list;

static void list_add(name_list *l, const char *name, size_t len)
{
    size_t shown = len < 64 ? len : 64;
    /* room for ", \"name\"" and for the ", ..." that may follow */
    if (!l->cut && l->used + shown + 4 + 5 < sizeof l->text) {
        char *p = l->text + l->used;
        if (l->count > 0) {
            *p++ = ',';
            *p++ = ' ';
        }
        *p++ = '"';
        for (size_t i = 0; i < shown; i++) {
            unsigned char c = (unsigned char)name[i];
            *p++ = c >= 0x20 && c < 0x7f ? (char)c : '?';
        }
        *p++ = '"';
        *p = '\0';
        l->used = (size_t)(p - l->text);
    } else if (!l->cut) {
        strcpy(l->text + l->used, ", ...");
        l->used += 5;
        l->cut = 1;
    }
    l->count++;
}

static void list_format(char *buf, size_t size, const char *what, const name_list *l)
{
    if (l->count == 0)
        buf[0] = '\0';
    else if (l->cut)
        snprintf(buf, size, " %s key(s) in state_dict: %s (%d in all).", what, l->text, l->count);
    else
        snprintf(buf, size, " %s key(s) in state_dict: %s.", what, l->text);
}

/* load_state_dict(strict=True): the file holds exactly the model's names. Fills
 * s->member. */
static nnf_status match_names(state_dict *s, const nnf__zip *zip, const nnf__io_ctx *ctx)
{
    name_list missing = {0}, unexpected = {0};
    for (int k = 0; k < s->n; k++) {
        s->member[k] = zip->count;
        for (size_t i = 0; i < zip->count && s->member[k] == zip->count; i++)
            if (member_is(&zip->members[i], s->names[k]))
                s->member[k] = i;
        if (s->member[k] == zip->count)
            list_add(&missing, s->names[k], strlen(s->names[k]));
    }
    for (size_t i = 0; i < zip->count; i++) {
        int known = 0;
        for (int k = 0; k < s->n && !known; k++)
            known = member_is(&zip->members[i], s->names[k]);
        if (!known)
            list_add(&unexpected, zip->members[i].name, nnf__npz_key_len(&zip->members[i]));
    }
    if (missing.count == 0 && unexpected.count == 0)
        return NNF_OK;
    char m[240], u[240];
    list_format(m, sizeof m, "Missing", &missing);
    list_format(u, sizeof u, "Unexpected", &unexpected);
    return nnf__io_fail(ctx, NNF_ERR_INVALID, "Error(s) in loading state_dict:%s%s", m, u);
}

/* A parameter with a stride-0 dim (an expanded view) has elements that share memory:
 * they cannot each take a value, and PyTorch's copy_ refuses such a target too. */
static nnf_status check_writable(const state_dict *s, const nnf__io_ctx *ctx)
{
    for (int k = 0; k < s->n; k++) {
        const nnf_tensor *p = s->params[k];
        for (int d = 0; d < nnf_tensor_ndim(p); d++)
            if (nnf_tensor_strides(p)[d] == 0 && nnf_tensor_shape(p)[d] > 1)
                return nnf__io_fail(ctx, NNF_ERR_STRIDE,
                                    "parameter %s has a dim of stride 0 (an expanded view): "
                                    "its elements share memory and cannot each be loaded",
                                    s->names[k]);
    }
    return NNF_OK;
}

/* Reads parameter k's member into s->scratch[k], after checking its shape. */
static nnf_status read_param(state_dict *s, int k, const nnf__zip *zip, const nnf__io_ctx *outer)
{
    nnf__io_ctx ctx = *outer;
    const nnf__zip_member *m = &zip->members[s->member[k]];
    nnf__io_set_member(&ctx, m->name, m->name_len);
    nnf__npy_reader r;
    nnf_status st = nnf__npy_open(&r, zip, s->member[k], &ctx);
    const nnf_tensor *p = s->params[k];
    int ndim = nnf_tensor_ndim(p);
    int same = r.h.ndim == ndim;
    for (int d = 0; d < ndim && same; d++)
        same = r.h.shape[d] == nnf_tensor_shape(p)[d];
    if (st == NNF_OK && !same) {
        char have[200], want[200];
        nnf__format_shape(have, sizeof have, r.h.ndim, r.h.shape);
        nnf__format_shape(want, sizeof want, ndim, nnf_tensor_shape(p));
        ctx.member[0] = '\0';
        st = nnf__io_fail(&ctx, NNF_ERR_SHAPE,
                          "size mismatch for %s: copying a param with shape %s from "
                          "checkpoint, the shape in current model is %s", s->names[k], have,
                          want);
    }
    if (st == NNF_OK)
        st = nnf__npy_read_data(&r, &s->scratch[k]);
    nnf__npy_close(&r);
    return st;
}

/* dst (float32, any strides without overlap) = src (contiguous, dst's shape). */
static void commit(nnf_tensor *dst, const nnf_tensor *src)
{
    const float *from = nnf_tensor_const_data(src);
    float *to = nnf_tensor_data(dst);
    int64_t numel = nnf_tensor_numel(dst);
    if (numel == 0)
        return;
    if (nnf_tensor_is_contiguous(dst)) {
        memcpy(to, from, (size_t)numel * sizeof(float));
        return;
    }
    int ndim = nnf_tensor_ndim(dst);
    int64_t index[NNF_MAX_DIMS] = {0}, offset = 0;
    for (int64_t k = 0; k < numel; k++) {
        memcpy(&to[offset], &from[k], sizeof(float));
        nnf__strided_next(ndim, nnf_tensor_shape(dst), nnf_tensor_strides(dst), index, &offset);
    }
}

static nnf_status load(nnf_model *model, const nnf__npz_file *f, const nnf__io_ctx *ctx)
{
    state_dict s;
    NNF_FORWARD(state_dict_new(&s, model, ctx));
    nnf_status st = match_names(&s, &f->zip, ctx);
    if (st == NNF_OK)
        st = check_writable(&s, ctx);
    for (int k = 0; k < s.n && st == NNF_OK; k++)
        st = read_param(&s, k, &f->zip, ctx);
    if (st == NNF_OK) {
        for (int k = 0; k < s.n; k++)
            commit(s.params[k], s.scratch[k]);
        nnf__model_weights_changed(model);
    }
    state_dict_free(&s);
    return st;
}

nnf_status nnf_model_load_npz(nnf_model *model, const char *path)
{
    NNF_RETURN_IF(model == NULL || path == NULL, NNF_ERR_NULL,
                  "nnf_model_load_npz: model and path must not be NULL");
    nnf__io_ctx ctx;
    nnf__io_init(&ctx, "nnf_model_load_npz", path);
    nnf__npz_file f;
    NNF_FORWARD(nnf__npz_file_read(&f, path, &ctx));
    nnf_status st = load(model, &f, &ctx);
    nnf__npz_file_close(&f);
    return st;
}

nnf_status nnf__model_load_npz_bytes(nnf_model *model, const void *bytes, size_t nbytes,
                                     const char *name)
{
    nnf__io_ctx ctx;
    nnf__io_init(&ctx, "nnf_model_load_npz", name);
    nnf__npz_file f;
    NNF_FORWARD(nnf__npz_file_wrap(&f, bytes, nbytes, &ctx));
    nnf_status st = load(model, &f, &ctx);
    nnf__npz_file_close(&f);
    return st;
}
