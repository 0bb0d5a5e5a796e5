module leakhound.dev/targets

go 1.19

require leakhound.dev/probe v0.0.0

// The probe is its own module so that other projects can require it too;
// here it is always the copy next door.
replace leakhound.dev/probe => ./probe
