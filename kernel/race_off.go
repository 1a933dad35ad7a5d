//go:build !race

package kernel

// raceAnnotated returns the implementations as they are: without the race
// detector there is nothing to tell it.
func raceAnnotated(ms []*impl) []*impl { return ms }

// raceReadWrite does nothing without the race detector.
func raceReadWrite[T Float](x, s, g []T) {}
