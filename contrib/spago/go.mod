module github.com/adagrad-go/adagrad/contrib/spago

go 1.24.0

require github.com/adagrad-go/adagrad v0.0.0

require (
	github.com/google/flatbuffers v23.5.26+incompatible // indirect
	github.com/klauspost/cpuid/v2 v2.4.2 // indirect
	github.com/nlpodyssey/spago v1.1.0
	golang.org/x/sys v0.41.0 // indirect
)

replace github.com/adagrad-go/adagrad => ../../
