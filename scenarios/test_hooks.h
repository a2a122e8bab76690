// The test hooks a run's conductor fibre runs after its scenario's
// prepare (RunSpec::test_hook; the names are in run.h): each makes a run
// fail, or behave, in one way a test of the harness needs.
#pragma once

#include "scenarios/stack.h"

namespace segsim::scenarios {

// kCrashHook, kUseAfterUnmapHook, kHeapReuseHook, kAssertInDestructorHook:
// whichever `stack.test_hook` names; nothing for any other.
void run_conductor_test_hooks(Stack& stack);

}  // namespace segsim::scenarios
