/*
 * The table of `smalgo launch`'s own children (see launch_children.h): a
 * fixed array searched linearly, which is plenty for a few hundred entries
 * looked at a few times a second.
 */
#include "runtime/launch_children.h"

#include <stddef.h>

void smg_children_init(struct smg_children *t)
{
    for (size_t i = 0; i < SMG_CHILDREN_MAX; i++)
        t->c[i] = (struct smg_child){0, false, 0};
}

static struct smg_child *find(struct smg_children *t, pid_t pid)
{
    for (size_t i = 0; pid > 0 && i < SMG_CHILDREN_MAX; i++)
        if (t->c[i].pid == pid)
            return &t->c[i];
    return NULL;
}

bool smg_children_room(const struct smg_children *t)
{
    for (size_t i = 0; i < SMG_CHILDREN_MAX; i++)
        if (t->c[i].pid == 0)
            return true;
    return false;
}

bool smg_children_add(struct smg_children *t, pid_t pid)
{
    struct smg_child *c = find(t, pid);

    if (pid <= 0)
        return false;
    /* A pid comes back only once its last owner was reaped: that entry is stale. */
    for (size_t i = 0; c == NULL && i < SMG_CHILDREN_MAX; i++)
        if (t->c[i].pid == 0)
            c = &t->c[i];
    if (c == NULL)
        return false;
    *c = (struct smg_child){pid, false, 0};
    return true;
}

bool smg_children_ended(struct smg_children *t, pid_t pid, int code)
{
    struct smg_child *c = find(t, pid);

    if (c == NULL)
        return false;
    c->ended = true;
    c->code = code;
    return true;
}

int smg_children_take(struct smg_children *t, pid_t pid, int *code)
{
    struct smg_child *c = find(t, pid);

    if (c == NULL)
        return -1;
    if (!c->ended)
        return 0;
    *code = c->code;
    *c = (struct smg_child){0, false, 0};
    return 1;
}
