module leakhound.dev/probe

go 1.19
