// Package benchmodel is the model-shaped list of tensors that the arena
// benchmarks (package adagrad's BenchmarkModel and `go run ./bench peers`) update:
// 1000 tensors of a small deep transformer, most of them biases and norms of 128
// or 512 elements, a few large matrices.
package benchmodel

// Sizes returns the element counts of the model's 1000 tensors: token and
// position embeddings (8192×128, 512×128), 62 blocks of attention (4 weights
// 128×128 and 4 biases), feed-forward (128×512 and 512×128 with biases of 512 and
// 128) and two layer norms (scale and shift of 128 each), a final layer norm and
// an output layer (128×8192 and its bias) and a pooler; 14.5M elements in all,
// 623 tensors of at most 1024.
func Sizes() []int {
	const d, ff, vocab, ctx, blocks = 128, 512, 8192, 512, 62
	sizes := []int{vocab * d, ctx * d}
	for range blocks {
		sizes = append(sizes,
			d*d, d, d*d, d, d*d, d, d*d, d, // attention q, k, v, o
			d, d, // layer norm
			d*ff, ff, ff*d, d, // feed-forward
			d, d, // layer norm
		)
	}
	sizes = append(sizes, d, d, d*vocab, vocab, d*d, d)
	return sizes
}
