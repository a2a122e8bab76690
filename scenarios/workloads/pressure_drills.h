// Drills of the pressure scenario, run at quiescence (no scheduling point and
// no draw of the simulation's streams, so the scenario's traces are those
// without them), each call checked against a model:
//   forecast_drill.cpp  a PressureForecaster of a drawn config fed drawn
//                       samples — byte-sized and large steps of used bytes,
//                       repeated instants, late samples, zero limits, resets —
//                       every forecast compared with ForecastModel; then
//                       record() on a manual clock, the model fed the clock's
//                       time (forecast-model)
//   loop_drill.cpp      a PressureLoop over drawn sources and counting actions:
//                       each tick's used bytes are the sum of the sources, its
//                       level and action the model's, reclaim() escalates as
//                       documented, stats() counts what happened
//                       (pressure-loop-model)
#pragma once

#include "scenarios/stack.h"

namespace segsim::scenarios {

void forecast_drill(Stack& stack);
void loop_drill(Stack& stack);

}  // namespace segsim::scenarios
