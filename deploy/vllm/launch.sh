#!/usr/bin/env bash
# Start vLLM's OpenAI-compatible server: one base model and one LoRA adapter
# per workload, structured outputs on, prompts kept out of the logs.
#
# Settings come from the environment (/etc/appliance/vllm.env through
# appliance-vllm.service); deploy/env/vllm.env.example describes each one.
# The flags were checked against vLLM 0.34.0's own argument parser on a
# machine without a GPU; the server was not started with them there.
set -euo pipefail

# ENGINE_EXECUTABLE: the vllm command, if not in /opt/vllm/venv. (vLLM warns
# about unknown VLLM_* variables, so none of the names here use that prefix.)
vllm_executable=${ENGINE_EXECUTABLE:-/opt/vllm/venv/bin/vllm}
: "${BASE_MODEL:?BASE_MODEL is not set: give the directory of the base model.}"
: "${VLLM_API_KEY:?VLLM_API_KEY is not set: the engine would accept requests from anyone.}"
SERVED_MODEL_NAME=${SERVED_MODEL_NAME:-base}
MAX_LORA_RANK=${MAX_LORA_RANK:-16}
LISTEN_HOST=${LISTEN_HOST:-127.0.0.1}
LISTEN_PORT=${LISTEN_PORT:-8000}
MAX_MODEL_LEN=${MAX_MODEL_LEN:-4096}
GPU_MEMORY_UTILIZATION=${GPU_MEMORY_UTILIZATION:-0.90}
STRUCTURED_OUTPUTS_BACKEND=${STRUCTURED_OUTPUTS_BACKEND:-xgrammar}

# Without adapters (LORA_MODULES empty) every workload uses the base model.
read -r -a lora_modules <<<"${LORA_MODULES:-}"
lora_args=()
for module in "${lora_modules[@]}"; do
  adapter_dir=${module#*=}
  if [[ $module != *=* || ! -f $adapter_dir/adapter_config.json ]]; then
    echo "LORA_MODULES entry '$module' is not name=directory with an" \
      "adapter_config.json in the directory." >&2
    exit 64
  fi
done
if [[ ${#lora_modules[@]} -gt 0 ]]; then
  lora_args=(
    --enable-lora
    --max-lora-rank "$MAX_LORA_RANK"
    --max-loras "${MAX_LORAS:-${#lora_modules[@]}}"
    --lora-modules "${lora_modules[@]}"
  )
fi

# Everything is local: no model downloads, no usage statistics sent out.
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export VLLM_NO_USAGE_STATS=1 VLLM_DO_NOT_TRACK=1 DO_NOT_TRACK=1

exec "$vllm_executable" serve "$BASE_MODEL" \
  --served-model-name "$SERVED_MODEL_NAME" \
  --host "$LISTEN_HOST" \
  --port "$LISTEN_PORT" \
  --max-model-len "$MAX_MODEL_LEN" \
  --gpu-memory-utilization "$GPU_MEMORY_UTILIZATION" \
  "${lora_args[@]}" \
  --structured-outputs-config.backend "$STRUCTURED_OUTPUTS_BACKEND" \
  --no-enable-log-requests \
  --disable-fastapi-docs
