using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Ballast.Pipelines;

namespace Ballast.Alerts;

/// <summary>
/// Delivers the outbox: each due notification is sent once per pass (webhook POST, signed when the action has a
/// secret; or a pipeline started through <see cref="IPipelineLauncher"/>), and the attempt is logged. A failure is
/// retried later with exponential backoff (<see cref="AlertDispatchOptions"/>), kept in the database so that a restart
/// carries on. A rule's notifications reach each target in order. A receiver's 4xx (except 408 and 429) and a missing pipeline launcher fail at once.
/// Delivery is at least once: receivers dedup on the <c>Ballast-Notification-Id</c> header. As Alertmanager, a resolved
/// notification goes only to a webhook that was told the alert fired: when its firing notification failed for good, the
/// resolved one is skipped (logged with the reason, never sent). A pipeline action whose pipeline has as many runs under
/// way as its <c>max_active_runs</c> allows is skipped too (logged with the runs, not retried).
/// </summary>
public sealed class AlertDispatcher(AlertStore store, HttpClient http, TimeProvider time, AlertDispatchOptions options, Func<IPipelineLauncher?> pipelines, IAlertDeliveryObserver? observer = null)
{
    /// <summary>
    /// Attempts every due notification once (a few at a time), each after taking it with a conditional write so that
    /// two dispatchers never send the same attempt; returns how many were attempted (or skipped).
    /// </summary>
    public async Task<int> DeliverDueAsync(CancellationToken cancellationToken = default)
    {
        var due = await store.DueAsync(options.BatchSize, cancellationToken).ConfigureAwait(false);
        var attempted = 0;
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = options.Parallelism, CancellationToken = cancellationToken }, async (notification, cancel) =>
        {
            if (await store.ClaimAsync(notification, time.GetUtcNow() + options.ClaimFor, cancel).ConfigureAwait(false))
            {
                await DeliverAsync(notification, cancel).ConfigureAwait(false);
                Interlocked.Increment(ref attempted);
            }
        }).ConfigureAwait(false);
        return attempted;
    }

    private async Task DeliverAsync(AlertNotification notification, CancellationToken cancellationToken)
    {
        if (notification.AlertStatus == AlertStates.Resolved && await UntoldAsync(notification, cancellationToken).ConfigureAwait(false) is { } reason)
        {
            await store.RecordAttemptAsync(notification, DeliveryOutcomes.Skipped, null, reason, null, cancellationToken).ConfigureAwait(false);
            observer?.Attempted(notification.Rule, notification.Kind, DeliveryOutcomes.Skipped, reason);
            return;
        }

        (bool Succeeded, bool Permanent, int? StatusCode, string? Error) result;
        try
        {
            result = notification.Kind == AlertAction.PipelineType
                ? await StartPipelineAsync(notification, cancellationToken).ConfigureAwait(false)
                : await PostAsync(notification, cancellationToken).ConfigureAwait(false);
        }
        catch (ActiveRunLimitException busy)
        {
            // A run of the pipeline is still under way (its max_active_runs): this firing starts nothing, now or on retry.
            var notStarted = "not started: " + busy.Message;
            await store.RecordAttemptAsync(notification, DeliveryOutcomes.Skipped, null, notStarted, null, cancellationToken).ConfigureAwait(false);
            observer?.Attempted(notification.Rule, notification.Kind, DeliveryOutcomes.Skipped, notStarted);
            observer?.PipelineStartSkipped(notification.Rule, notification.Target);
            return;
        }

        var (succeeded, permanent, statusCode, error) = result;
        var attempt = notification.Attempts + 1;
        var outcome = succeeded ? DeliveryOutcomes.Delivered : permanent || attempt >= options.MaxAttempts ? DeliveryOutcomes.Failed : DeliveryOutcomes.Retry;
        DateTimeOffset? next = outcome == DeliveryOutcomes.Retry ? time.GetUtcNow() + options.Backoff(attempt) : null;
        await store.RecordAttemptAsync(notification, outcome, statusCode, error, next, cancellationToken).ConfigureAwait(false);
        observer?.Attempted(notification.Rule, notification.Kind, outcome, error);
    }

    /// <summary>
    /// Why a resolved notification must not be sent (its webhook never got the firing one), or null to send it. The
    /// firing one is no longer pending here: a rule's notifications to a target are due in order (<see cref="AlertStore.DueAsync"/>).
    /// </summary>
    private async Task<string?> UntoldAsync(AlertNotification resolved, CancellationToken cancellationToken) =>
        await store.FiringBeforeAsync(resolved, cancellationToken).ConfigureAwait(false) switch
        {
            null => "not sent: no firing notification of this alert went to this webhook, so there is nothing to resolve",
            { Status: NotificationStatuses.Failed } firing =>
                $"not sent: the receiver was never told the alert fired (firing notification {firing.Id} failed after {firing.Attempts} attempt(s): {firing.LastError})",
            _ => null,
        };

    private async Task<(bool Succeeded, bool Permanent, int? StatusCode, string? Error)> PostAsync(AlertNotification notification, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes(notification.Payload);
        using var request = new HttpRequestMessage(HttpMethod.Post, notification.Action.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add(WebhookSignature.NotificationHeader, notification.Id);
        if (notification.Action.Secret is { } reference)
        {
            if (await ResolveSecretAsync(reference, cancellationToken).ConfigureAwait(false) is not { } secret)
            {
                return (false, false, null, $"the webhook's secret {Describe(reference)} is not set");
            }

            var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
            request.Headers.Add(WebhookSignature.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(secret, timestamp, body));
        }

        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            var code = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return (true, false, code, null);
            }

            var permanent = code is >= 400 and < 500 && response.StatusCode is not (HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests);
            return (false, permanent, code, $"the receiver answered {code} {response.ReasonPhrase}".TrimEnd());
        }
        catch (HttpRequestException exception)
        {
            return (false, false, null, exception.Message);
        }
        catch (TaskCanceledException exception) when (!cancellationToken.IsCancellationRequested)
        {
            return (false, false, null, "the receiver did not answer in time: " + exception.Message);
        }
    }

    private async Task<(bool Succeeded, bool Permanent, int? StatusCode, string? Error)> StartPipelineAsync(AlertNotification notification, CancellationToken cancellationToken)
    {
        if (pipelines() is not { } launcher)
        {
            return (false, true, null, $"pipeline '{notification.Target}' cannot be started: this server has no pipeline runner");
        }

        var parameters = JsonSerializer.Deserialize(notification.Payload, AlertJsonContext.Default.DictionaryStringString) ?? [];
        try
        {
            _ = await launcher.StartAsync(notification.Target, parameters, $"alert:{notification.Rule}", cancellationToken).ConfigureAwait(false);
            return (true, false, null, null);
        }
        catch (Exception exception) when (exception is not (OperationCanceledException or ActiveRunLimitException))
        {
            // A pipeline that does not exist or whose parameters it refuses will not start on retry either.
            var permanent = exception is Ballast.Tracking.TrackingException or ArgumentException or KeyNotFoundException;
            return (false, permanent, null, exception.Message);
        }
    }

    /// <summary><c>env:NAME</c> → the variable, <c>file:/path</c> → the file's text (trimmed), anything else is the secret itself.</summary>
    private static async Task<string?> ResolveSecretAsync(string reference, CancellationToken cancellationToken)
    {
        if (reference.StartsWith("env:", StringComparison.Ordinal))
        {
            return Environment.GetEnvironmentVariable(reference[4..]) is { Length: > 0 } value ? value : null;
        }

        if (reference.StartsWith("file:", StringComparison.Ordinal))
        {
            try
            {
                return (await File.ReadAllTextAsync(reference[5..], cancellationToken).ConfigureAwait(false)).Trim() is { Length: > 0 } text ? text : null;
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                return null;
            }
        }

        return reference;
    }

    /// <summary>How an error names a secret: its reference for env: and file:, never a literal secret.</summary>
    private static string Describe(string reference) =>
        reference.StartsWith("env:", StringComparison.Ordinal) || reference.StartsWith("file:", StringComparison.Ordinal) ? reference : "(literal)";
}
