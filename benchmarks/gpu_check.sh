#!/usr/bin/env bash
# One short GPU check for the measure/validate machinery (about 3-6 minutes on an H100).
#
#   OUT=/some/dir bash benchmarks/gpu_check.sh        # run from the repository root
#
# 1. measures the GPU (bf16, fp16, fp32; full sweep plus Llama-3.2-1B's own matmul shapes)
#    into $OUT/profile.json (falls back to --quick if the full sweep fails or runs long);
# 2. validates Llama-3.2-1B (random weights, our reference model) on that profile:
#    prefill 128/512/2048 at batch 1, decode at batch 1/4/16/64 and contexts 512/2048,
#    bf16 and fp16, as JSON and Markdown;
# 3. the same timings predicted from the datasheet preset (h100-sxm), for comparison.
# Needs a python that imports torch with CUDA: the project's .venv if it has one, else the
# system python3 (the package runs from src/ via PYTHONPATH; nothing is installed).
set -uo pipefail
OUT="${OUT:-gpu-check}"
mkdir -p "$OUT"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"

PY=""
for candidate in .venv/bin/python python3 python; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import torch" 2>/dev/null; then
    PY="$candidate"; break
  fi
done
if [ -z "$PY" ]; then echo "gpu_check: no python with torch found" | tee "$OUT/error.txt" >&2; exit 1; fi

"$PY" - > "$OUT/env.json" <<'PYEOF'
import json, platform, torch
info = {"python": platform.python_version(), "torch": torch.__version__,
        "cuda_available": torch.cuda.is_available(), "cuda": torch.version.cuda}
if torch.cuda.is_available():
    p = torch.cuda.get_device_properties(0)
    info |= {"device": p.name, "memory_bytes": p.total_memory, "capability": list(torch.cuda.get_device_capability(0)),
             "bf16": torch.cuda.is_bf16_supported()}
print(json.dumps(info, indent=1))
PYEOF
cat "$OUT/env.json"

RL=("$PY" -m llm_roofline)
MODEL=llama-3.2-1b
echo "== measure (full sweep + $MODEL shapes)"
if ! timeout 240 "${RL[@]}" measure --device cuda --dtypes bf16,fp16,fp32 --model "$MODEL" \
     --out "$OUT/profile.json" 2> "$OUT/measure.log"; then
  echo "full measure failed or timed out; falling back to --quick" | tee -a "$OUT/measure.log"
  timeout 120 "${RL[@]}" measure --device cuda --dtypes bf16,fp16 --quick \
     --out "$OUT/profile.json" 2>> "$OUT/measure.log" || { cat "$OUT/measure.log"; exit 1; }
fi
tail -n 3 "$OUT/measure.log"

GRID=(--model "$MODEL" --device cuda --dtypes bf16,fp16 --prompt-lens 128,512,2048
      --batches 1,4,16,64 --context-lens 512,2048 --repeats 10 --warmup 3)
echo "== validate on the measured profile"
timeout 150 "${RL[@]}" validate "${GRID[@]}" --hardware "$OUT/profile.json" --format json \
  > "$OUT/validate-profile.json" 2> "$OUT/validate.log"
"$PY" - "$OUT" <<'PYEOF'
import json, sys
from llm_roofline.validate.compare import Row, summarize, validation
from llm_roofline.validate.render import render_markdown
out = sys.argv[1]
data = json.load(open(f"{out}/validate-profile.json"))
fields = {f for f in Row.__dataclass_fields__}
rows = [Row(**{k: v for k, v in r.items() if k in fields}) for r in data["rows"]]
text = render_markdown(validation(rows, data["meta"]))
open(f"{out}/validate-profile.md", "w").write(text + "\n")
print(text)
PYEOF
echo "== the same points predicted from the datasheet preset (h100-sxm)"
timeout 120 "${RL[@]}" validate "${GRID[@]}" --hardware h100-sxm --format markdown \
  > "$OUT/validate-preset.md" 2>> "$OUT/validate.log"
tail -n 12 "$OUT/validate-preset.md"
echo "results in $OUT"
