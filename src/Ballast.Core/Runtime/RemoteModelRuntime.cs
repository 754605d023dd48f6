using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Ballast.Runtime;

/// <summary>How a remote variant is called: per-attempt timeout, retries of transient failures, and the circuit breaker.</summary>
public sealed record RemoteOptions(TimeSpan Timeout, int Retries)
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(1);
    public const int DefaultRetries = 1;

    /// <summary>The breaker opens when at least half of the calls in 10 s failed (and at least 5 were made), for 15 s.</summary>
    public double FailureRatio { get; init; } = 0.5;

    public int MinimumThroughput { get; init; } = 5;

    public TimeSpan SamplingDuration { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan BreakDuration { get; init; } = TimeSpan.FromSeconds(15);
}

/// <summary>A remote model server failed to answer (an error status, a broken connection, a timeout, an open circuit).</summary>
public sealed class RemoteModelException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A model served by another server speaking the Open Inference Protocol (KServe, Triton, MLServer, another Ballast):
/// <c>GET {url}</c> gives its signature when it is loaded, <c>POST {url}/infer</c> scores. Each call goes through a Polly
/// pipeline: retries of transient failures (connection errors, timeouts, 5xx and 429), a circuit breaker, and a
/// per-attempt timeout. A 400 from the remote is the caller's bad input (<see cref="ModelInputException"/>): never
/// retried, never counted against the remote.
/// </summary>
public sealed class RemoteModelRuntime : IModelRuntime
{
    private readonly HttpClient _http;
    private readonly Uri _url;
    private readonly ResiliencePipeline _pipeline;

    private RemoteModelRuntime(HttpClient http, Uri url, ModelSignature signature, ResiliencePipeline pipeline)
    {
        _http = http;
        _url = url;
        Signature = signature;
        _pipeline = pipeline;
    }

    public string Flavor => ModelFlavors.Remote;

    public ModelSignature Signature { get; }

    /// <summary>
    /// Reads the remote model's metadata (its signature) and returns the runtime; <paramref name="circuit"/> hears the
    /// breaker's transitions (<c>opened</c>, <c>half_opened</c>, <c>closed</c>). Throws <see cref="ModelLoadException"/>
    /// when the remote does not answer with V2 metadata.
    /// </summary>
    public static async Task<RemoteModelRuntime> ConnectAsync(HttpClient http, Uri url, RemoteOptions options, TimeProvider time, Action<string>? circuit = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(options);
        var pipeline = Pipeline(options, time, circuit);
        try
        {
            var signature = await pipeline.ExecuteAsync(async token =>
            {
                using var response = await http.GetAsync(url, token).ConfigureAwait(false);
                await EnsureSuccessAsync(response, url, token).ConfigureAwait(false);
                await using var body = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
                using var metadata = await JsonDocument.ParseAsync(body, cancellationToken: token).ConfigureAwait(false);
                return new ModelSignature(Specs(metadata.RootElement, "inputs"), Specs(metadata.RootElement, "outputs"));
            }, cancellationToken).ConfigureAwait(false);
            return new RemoteModelRuntime(http, url, signature, pipeline);
        }
        catch (Exception exception) when (exception is RemoteModelException or ModelInputException or HttpRequestException or TimeoutRejectedException or BrokenCircuitException or JsonException or InvalidOperationException or KeyNotFoundException)
        {
            throw new ModelLoadException($"remote model {url} did not give its V2 metadata: {exception.Message}", exception);
        }
    }

    public IReadOnlyList<Tensor> Infer(IReadOnlyList<Tensor> inputs, IReadOnlyCollection<string>? outputs = null) =>
        throw new NotSupportedException("A remote model is called over the network: use InferAsync.");

    public async ValueTask<IReadOnlyList<Tensor>> InferAsync(IReadOnlyList<Tensor> inputs, IReadOnlyCollection<string>? outputs = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var body = Request(inputs, outputs);
        try
        {
            return await _pipeline.ExecuteAsync(async token =>
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await _http.PostAsync(new Uri(_url + "/infer"), content, token).ConfigureAwait(false);
                await EnsureSuccessAsync(response, _url, token).ConfigureAwait(false);
                await using var stream = await response.Content.ReadAsStreamAsync(token).ConfigureAwait(false);
                using var document = await JsonDocument.ParseAsync(stream, cancellationToken: token).ConfigureAwait(false);
                try
                {
                    return (IReadOnlyList<Tensor>)document.RootElement.GetProperty("outputs").EnumerateArray().Select(V2Codec.ReadTensor).ToList();
                }
                catch (ModelInputException malformed)
                {
                    // The remote's answer is at fault, not the caller's input: a 502 (not retried), never the caller's 400.
                    throw new InvalidOperationException($"its answer is not V2 tensors: {malformed.Message}", malformed);
                }
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is HttpRequestException or TimeoutRejectedException or BrokenCircuitException or JsonException or InvalidOperationException or KeyNotFoundException)
        {
            throw new RemoteModelException(exception switch
            {
                TimeoutRejectedException => $"remote model {_url} did not answer within its timeout",
                BrokenCircuitException => $"remote model {_url} is cut off by its open circuit breaker after repeated failures",
                _ => $"remote model {_url} failed: {exception.Message}",
            }, exception);
        }
    }

    public void Dispose()
    {
        // The HttpClient belongs to the model cache.
    }

    private static ResiliencePipeline Pipeline(RemoteOptions options, TimeProvider time, Action<string>? circuit)
    {
        var transient = new PredicateBuilder().Handle<HttpRequestException>().Handle<TimeoutRejectedException>().Handle<RemoteModelException>();
        var builder = new ResiliencePipelineBuilder { TimeProvider = time };
        if (options.Retries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions { MaxRetryAttempts = options.Retries, Delay = TimeSpan.FromMilliseconds(20), BackoffType = DelayBackoffType.Exponential, ShouldHandle = transient });
        }

        return builder
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = options.FailureRatio,
                MinimumThroughput = options.MinimumThroughput,
                SamplingDuration = options.SamplingDuration,
                BreakDuration = options.BreakDuration,
                ShouldHandle = transient,
                OnOpened = _ => Notify(circuit, "opened"),
                OnHalfOpened = _ => Notify(circuit, "half_opened"),
                OnClosed = _ => Notify(circuit, "closed"),
            })
            .AddTimeout(options.Timeout)
            .Build();
    }

    private static ValueTask Notify(Action<string>? circuit, string transition)
    {
        circuit?.Invoke(transition);
        return ValueTask.CompletedTask;
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, Uri url, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var message = text;
        try
        {
            using var error = JsonDocument.Parse(text);
            message = error.RootElement.TryGetProperty("error", out var v2) && v2.ValueKind == JsonValueKind.String ? v2.GetString()!
                : error.RootElement.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.String ? detail.GetString()! : text;
        }
        catch (JsonException)
        {
            // Not JSON: the text itself.
        }

        if (response.StatusCode == HttpStatusCode.BadRequest)
        {
            throw new ModelInputException(message);
        }

        throw new RemoteModelException($"remote model {url} answered {(int)response.StatusCode}: {(message.Length > 300 ? message[..300] : message)}");
    }

    private static byte[] Request(IReadOnlyList<Tensor> inputs, IReadOnlyCollection<string>? outputs)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            TensorJson.WriteTensors(writer, "inputs", inputs);
            if (outputs is { Count: > 0 })
            {
                writer.WriteStartArray("outputs");
                foreach (var name in outputs)
                {
                    writer.WriteStartObject();
                    writer.WriteString("name", name);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static List<TensorSpec> Specs(JsonElement metadata, string property) =>
        metadata.TryGetProperty(property, out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Select(spec => new TensorSpec(
                spec.GetProperty("name").GetString()!,
                spec.GetProperty("datatype").GetString()!,
                spec.GetProperty("shape").EnumerateArray().Select(dimension => dimension.GetInt64()).ToList())).ToList()
            : [];
}
