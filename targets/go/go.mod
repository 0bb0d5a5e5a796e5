module leakhound.dev/targets

go 1.19

require (
	example.com/metrics v0.0.0
	leakhound.dev/probe v0.0.0
)

// The probe is its own module so that other projects can require it too;
// here it is always the copy next door.
replace leakhound.dev/probe => ./probe

// A stand-in for a third-party library (libhttpbodies' metrics): its own
// module, so that blame tells its frames from the target's own.
replace example.com/metrics => ./metrics
