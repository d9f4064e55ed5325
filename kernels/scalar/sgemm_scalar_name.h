/* The scalar sgemm kernels are built twice on x86 (kernels/scalar/meson.build): at the
 * baseline, and with -mfma and NNF_SGEMM_FMA as the `scalarfma` variant. */
#ifndef NNF_KERNELS_SCALAR_SGEMM_SCALAR_NAME_H
#define NNF_KERNELS_SCALAR_SGEMM_SCALAR_NAME_H

#ifdef NNF_SGEMM_FMA
#define NNF__SGEMM_SCALAR(name) name##__scalarfma
#else
#define NNF__SGEMM_SCALAR(name) name##__scalar
#endif

#endif
