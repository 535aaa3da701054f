// Imported before onnxruntime-node everywhere Frontier loads it. Since 1.29, onnxruntime on Linux and macOS collects
// usage telemetry (1DS) and queues it in the user's cache folder (~/.cache/Microsoft/DeveloperTools/.onnxruntime)
// for upload. Frontier promises that nothing leaves the machine unless the user points it at a server, so it sets
// onnxruntime's documented opt-out, ORT_DISABLE_TELEMETRY=1, which must be in the environment before onnxruntime
// initialises: then no uploader, device id or offline cache is created. Worker threads and child processes inherit it.
// Plain JavaScript so the .mjs workers can import it too.
process.env.ORT_DISABLE_TELEMETRY = '1';
