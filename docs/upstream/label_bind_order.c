/*
 * Reproducer for FRR's nexthop label bind cache ordering defect.
 *
 * bgpd keeps the labels an ASBR binds for VPN routes (l3vpn-multi-domain-switching) in a
 * typesafe red-black tree declared with DECLARE_RBTREE_UNIQ() and keyed by (nexthop, received
 * label); bgp_mplsvpn_nh_label_bind_cmp() orders it. Since FRR 9.1 that function returns 1
 * whenever the two nexthops differ, in both directions, so a < b and b < a both hold: the
 * tree is not ordered, and once it holds entries for two nexthops and rebalances, lookups miss
 * entries that are there (bgpd then binds the route to a new local label).
 *
 * This program builds the same kind of tree with FRR's own lib/typerb.c and typesafe.h (the
 * Makefile takes them from Debian's frr source package; nothing of FRR is in this folder),
 * once with each comparator:
 *   - "original": the logic of bgp_mplsvpn_nh_label_bind_cmp() in FRR 9.1 to 10.3 and later;
 *   - "fixed": the patch next to this file (prefix_cmp()'s result, then numcmp() of labels).
 * For every entry count it inserts the entries in many orders, then looks every one of them
 * up and counts the lookups that do not find it. It prints the counts and exits 0 when the
 * original comparator misses and the fixed one never does (the defect shown), 1 otherwise.
 *
 * The nexthop is an IPv4 host prefix compared as prefix_cmp() compares two prefixes of one
 * family and length (their address bytes, memcmp()): the defect does not depend on how two
 * different nexthops are ordered, only on the comparator answering "greater" both ways.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "typerb.h"

struct nexthop {
	uint8_t addr[4]; /* IPv4, network order: 10.255.0.x */
};

static int nexthop_cmp(const struct nexthop *a, const struct nexthop *b)
{
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

PREDECL_RBTREE_UNIQ(original_tree);
PREDECL_RBTREE_UNIQ(fixed_tree);

struct bind_entry {
	struct original_tree_item original_item;
	struct fixed_tree_item fixed_item;
	struct nexthop nexthop;
	uint32_t orig_label;
};

/* FRR 9.1 .. 10.3: 1 for any two different nexthops, whichever comes first. */
static int original_cmp(const struct bind_entry *a, const struct bind_entry *b)
{
	if (nexthop_cmp(&a->nexthop, &b->nexthop))
		return 1;
	if (a->orig_label > b->orig_label)
		return 1;
	if (a->orig_label < b->orig_label)
		return -1;
	return 0;
}

/* The patch: a total order. */
static int fixed_cmp(const struct bind_entry *a, const struct bind_entry *b)
{
	int cmp;

	cmp = nexthop_cmp(&a->nexthop, &b->nexthop);
	if (cmp)
		return cmp;

	return numcmp(a->orig_label, b->orig_label);
}

DECLARE_RBTREE_UNIQ(original_tree, struct bind_entry, original_item, original_cmp);
DECLARE_RBTREE_UNIQ(fixed_tree, struct bind_entry, fixed_item, fixed_cmp);

/* A small deterministic generator: the same orders on every machine. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rng(void)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(rng_state >> 33);
}

static void shuffle(struct bind_entry **order, size_t n)
{
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = rng() % (i + 1);
		struct bind_entry *swap = order[i];

		order[i] = order[j];
		order[j] = swap;
	}
}

struct result {
	unsigned long lookups, missed, rebound;
};

/*
 * nexthops x labels entries, inserted in `rounds` random orders; after each round every entry
 * is looked up with a separate key (as bgpd does, from the path's nexthop and label). A
 * lookup that misses does what bgp_mplsvpn_nh_label_bind_find()'s callers do next: a new
 * entry for the key, added to the tree (counted as "rebound" when the tree accepts it: the
 * key is then in it twice, and the route gets a new local label).
 */
static void run(int nexthops, int labels, int rounds, struct result *original,
		struct result *fixed)
{
	size_t n = (size_t)nexthops * labels;
	struct bind_entry *entries = calloc(n, sizeof(*entries));
	struct bind_entry **order = calloc(n, sizeof(*order));
	struct bind_entry *keys = calloc(n, sizeof(*keys));

	memset(original, 0, sizeof(*original));
	memset(fixed, 0, sizeof(*fixed));
	for (int h = 0; h < nexthops; h++)
		for (int l = 0; l < labels; l++) {
			struct bind_entry *e = &entries[h * labels + l];

			e->nexthop = (struct nexthop){ { 10, 255, 0, (uint8_t)(1 + h) } };
			e->orig_label = 16 + l;
		}

	for (int round = 0; round < rounds; round++) {
		struct original_tree_head original_head;
		struct fixed_tree_head fixed_head;

		original_tree_init(&original_head);
		fixed_tree_init(&fixed_head);
		for (size_t i = 0; i < n; i++)
			order[i] = &entries[i];
		shuffle(order, n);
		for (size_t i = 0; i < n; i++) {
			original_tree_add(&original_head, order[i]);
			fixed_tree_add(&fixed_head, order[i]);
		}
		for (size_t i = 0; i < n; i++) {
			struct bind_entry *key = &keys[i];

			*key = (struct bind_entry){ .nexthop = entries[i].nexthop,
						    .orig_label = entries[i].orig_label };
			original->lookups++;
			if (original_tree_find(&original_head, key) != &entries[i]) {
				original->missed++;
				/* add() returns the entry already there, or NULL. */
				if (!original_tree_add(&original_head, key))
					original->rebound++;
			}
			fixed->lookups++;
			if (fixed_tree_find(&fixed_head, key) != &entries[i]) {
				fixed->missed++;
				if (!fixed_tree_add(&fixed_head, key))
					fixed->rebound++;
			}
		}
		while (original_tree_pop(&original_head))
			;
		while (fixed_tree_pop(&fixed_head))
			;
		original_tree_fini(&original_head);
		fixed_tree_fini(&fixed_head);
	}
	free(keys);
	free(order);
	free(entries);
}

int main(void)
{
	static const struct {
		int nexthops, labels, rounds;
		const char *what;
	} cases[] = {
		{ 1, 20, 200, "one nexthop (a single PE)" },
		{ 2, 1, 300, "two entries (the bgp_vpnv4_asbr topotest)" },
		{ 3, 1, 200, "three nexthops, one VPN label each" },
		{ 2, 2, 200, "two nexthops x two VPN labels" },
		{ 4, 3, 200, "four PEs, three VPNs" },
		{ 20, 20, 200, "20 nexthops x 20 labels" },
	};
	unsigned long original_missed = 0, fixed_missed = 0;

	printf("Lookups in a DECLARE_RBTREE_UNIQ tree (FRR's lib/typerb.c) keyed by (nexthop, label)\n\n");
	printf("%-50s %9s %16s %16s\n", "entries", "lookups", "missed:original", "missed:fixed");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct result original, fixed;
		char label[64];

		run(cases[i].nexthops, cases[i].labels, cases[i].rounds, &original, &fixed);
		snprintf(label, sizeof(label), "%d x %d: %s", cases[i].nexthops,
			 cases[i].labels, cases[i].what);
		printf("%-50s %9lu %16lu %16lu\n", label, original.lookups, original.missed,
		       fixed.missed);
		if (original.rebound || fixed.rebound)
			printf("%-50s %9s %16lu %16lu\n", "  re-bound (the key then twice in the tree)",
			       "", original.rebound, fixed.rebound);
		original_missed += original.missed;
		fixed_missed += fixed.missed;
	}
	printf("\noriginal comparator: %lu lookups missed an entry that is in the tree\n",
	       original_missed);
	printf("fixed comparator:    %lu\n", fixed_missed);
	return original_missed > 0 && fixed_missed == 0 ? 0 : 1;
}
