"""CPU feature detection decides bf16 training and int8 kernels."""
from __future__ import annotations

from models.cpu_features import CpuFeatures, cpu_features, parse_cpuinfo_flags

AVX2_EPYC = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse sse2 avx fma avx2 bmi2\n"
SAPPHIRE = "flags : avx2 avx512f avx512_vnni avx512_bf16 amx_bf16 amx_int8\n"


def test_flags_decide_bf16_and_vnni():
    epyc = CpuFeatures(parse_cpuinfo_flags(AVX2_EPYC))
    assert epyc.avx2 and not epyc.avx512 and not epyc.native_bf16 and not epyc.vnni
    spr = CpuFeatures(parse_cpuinfo_flags(SAPPHIRE))
    assert spr.native_bf16 and spr.vnni and spr.avx512
    assert "native bf16 no" in epyc.describe() and "native bf16 yes" in spr.describe()
    assert parse_cpuinfo_flags("no flags here") == frozenset()


def test_training_precision_auto_never_picks_emulated_bf16():
    import torch

    from models.train import autocast_dtype

    epyc, spr = (CpuFeatures(parse_cpuinfo_flags(t)) for t in (AVX2_EPYC, SAPPHIRE))
    assert autocast_dtype("auto", "cpu", epyc) is None
    assert autocast_dtype("auto", "cpu", spr) is torch.bfloat16
    assert autocast_dtype("bf16", "cpu", epyc) is torch.bfloat16      # asked for explicitly
    assert autocast_dtype("fp32", "cpu", spr) is None
    assert autocast_dtype("auto", "cuda", epyc) is torch.float16
    assert isinstance(cpu_features(), CpuFeatures)
