// The flight recorder's region table under collisions (issue 10): a key
// whose home entry is taken is placed in the next free entry, and a search
// walks on from the home past taken and freed ("gone") entries to find it.
// The episodes' allocators never make keys collide (the table's Fibonacci
// hash spreads the keys of allocators with close ids: probe
// recorder.regions.displaced 0 in 300 seeds of the region episode), so a
// mistake on that path — a displaced key placed where no search looks, a
// search that stops at a gone entry — lost region bases, and with them the
// addresses of crash reports, with no sweep noticing.
//
// The drill makes keys collide on purpose: under a private allocator's id
// (unique in the process; it maps none of the drill's region ids) it picks
// region ids whose keys share a home entry, or take the entry next to it
// (core::flight_recorder::detail::region_home_entry), and in a seed-drawn
// order notes them mapped, maps some again at other bases, forgets some and
// notes them anew; after every step each key's region_base() must be what a
// model says (its last base; 0 when forgotten or never noted) — also for
// keys of the same home never noted (recorder-addresses). At the end every
// key is forgotten and reads 0. The premise is checked too: each noted key
// sits within the table's farthest placement past the home entry
// region_home_entry names (else the "colliding" keys need not collide, and
// the drill would pass having tested nothing: seed 46's mutant).
//
// First, two placements in flight at once (fault point
// recorder.regions.claim.yield, where a key has claimed its entry but not
// published it): a farther key's placement while a nearer one completes
// (the farthest placement must still end at the farther: seed 22's mutant
// flight_recorder_regions.cpp:67 lost that update), and a key of the same
// home while another's claim is in flight (it must take another entry: the
// table let two placements claim one entry until stop 41).
//
// Run at quiescence (alloc-api's finish, every seed; no recorder needed: the
// allocators write the table whether or not it is on). No platform call.
#pragma once

#include "scenarios/stack.h"
#include "sim/random.h"

namespace segsim::scenarios {

void run_region_table_drill(Stack& stack, sim::Rng& rng);

}  // namespace segsim::scenarios
