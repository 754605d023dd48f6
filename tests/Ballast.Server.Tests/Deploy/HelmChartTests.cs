using System.Text.Json;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using YamlDotNet.Serialization;

namespace Ballast.Tests.Deploy;

/// <summary>
/// The Helm chart (deploy/helm/ballast) through deploy/helm/rendered-example.yaml, its rendering with the default
/// values: every object is read strictly into the Kubernetes models of KubernetesClient (an unknown or misspelt field
/// fails), has the fields the API server requires, and refers correctly to the others (selectors, ports, probes,
/// Secrets, the service account). helm lints the chart and renders it, and the rendering must be the example.
/// </summary>
public sealed partial class HelmChartTests
{
    private const string Example = "deploy/helm/rendered-example.yaml";

    private static readonly Dictionary<string, Type> BuiltInKinds = new(StringComparer.Ordinal)
    {
        ["v1/ConfigMap"] = typeof(V1ConfigMap),
        ["v1/Service"] = typeof(V1Service),
        ["v1/ServiceAccount"] = typeof(V1ServiceAccount),
        ["apps/v1/Deployment"] = typeof(V1Deployment),
        ["autoscaling/v2/HorizontalPodAutoscaler"] = typeof(V2HorizontalPodAutoscaler),
        ["policy/v1/PodDisruptionBudget"] = typeof(V1PodDisruptionBudget),
        ["rbac.authorization.k8s.io/v1/Role"] = typeof(V1Role),
        ["rbac.authorization.k8s.io/v1/RoleBinding"] = typeof(V1RoleBinding),
    };

    private static readonly HashSet<string> OperatorKinds = ["monitoring.coreos.com/v1/ServiceMonitor", "monitoring.coreos.com/v1/PrometheusRule"];

    [Fact]
    public void Every_rendered_object_is_a_valid_kubernetes_object_of_a_known_kind()
    {
        var documents = Documents(DeployFiles.Read(Example));
        documents.Select(d => d.Kind).ShouldBe(
            ["PodDisruptionBudget", "ServiceAccount", "ConfigMap", "Role", "RoleBinding", "Service", "Deployment", "HorizontalPodAutoscaler", "PrometheusRule", "ServiceMonitor"],
            "in Helm's install order");
        foreach (var document in documents)
        {
            var key = document.ApiVersion + "/" + document.Kind;
            if (OperatorKinds.Contains(key))
            {
                continue;
            }

            BuiltInKinds.ShouldContainKey(key);
            var model = Read(document, BuiltInKinds[key]);
            var metadata = ((IMetadata<V1ObjectMeta>)model).Metadata;
            metadata.ShouldNotBeNull(key);
            DnsName().IsMatch(metadata.Name).ShouldBeTrue($"{key} name '{metadata.Name}' must be a DNS-1123 name");
            metadata.Labels["app.kubernetes.io/name"].ShouldBe("ballast");
        }
    }

    [Fact]
    public void The_check_catches_a_misspelt_field()
    {
        const string yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replicaz: 2\n";
        Should.Throw<ShouldAssertException>(() => Read(new Document("apps/v1", "Deployment", yaml), typeof(V1Deployment))).Message.ShouldContain("replicaz");
    }

    [Fact]
    public void Each_template_of_the_chart_is_in_the_rendered_example()
    {
        var example = DeployFiles.Read(Example);
        var templates = Directory.GetFiles(DeployFiles.PathOf("deploy/helm/ballast/templates"), "*.yaml").Select(Path.GetFileName).ToList();
        templates.Count.ShouldBe(9);
        templates.Where(t => !example.Contains($"# Source: ballast/templates/{t}", StringComparison.Ordinal)).ShouldBeEmpty();
    }

    [Fact]
    public void The_deployment_probes_secrets_and_security_settings_are_wired()
    {
        var documents = Documents(DeployFiles.Read(Example));
        var deployment = Single<V1Deployment>(documents);
        var pod = deployment.Spec.Template.Spec;
        var container = pod.Containers.ShouldHaveSingleItem();

        deployment.Spec.Selector.MatchLabels.ShouldBeSubsetOf(deployment.Spec.Template.Metadata.Labels);
        container.Image.ShouldBe("ghcr.io/ballast/ballast:0.1.0", "values.yaml's repository with the chart's appVersion");
        container.Args.ShouldBe(["server"]);
        var port = container.Ports.ShouldHaveSingleItem();
        (port.Name, port.ContainerPort).ShouldBe(("http", 5000));

        container.ReadinessProbe.HttpGet.Path.ShouldBe("/v2/health/ready");
        container.LivenessProbe.HttpGet.Path.ShouldBe("/health");
        container.StartupProbe.HttpGet.Path.ShouldBe("/health");
        foreach (var probe in new[] { container.ReadinessProbe, container.LivenessProbe, container.StartupProbe })
        {
            probe.HttpGet.Port.Value.ShouldBe("http");
        }

        container.Resources.Requests.Keys.ShouldBe(["cpu", "memory"], ignoreOrder: true);
        container.Resources.Limits.ShouldContainKey("memory");

        // Non-root with a read-only root filesystem: the only writable paths are the two volumes.
        pod.SecurityContext.RunAsNonRoot.ShouldBe(true);
        pod.SecurityContext.RunAsUser.ShouldBe(1654, "the UID of the aspnet image's 'app' user that the Dockerfile runs as");
        container.SecurityContext.ReadOnlyRootFilesystem.ShouldBe(true);
        container.SecurityContext.AllowPrivilegeEscalation.ShouldBe(false);
        container.SecurityContext.Capabilities.Drop.ShouldBe(["ALL"]);
        container.VolumeMounts.Select(m => m.MountPath).ShouldBe(["/var/lib/ballast", "/tmp"], ignoreOrder: true);
        container.VolumeMounts.Select(m => m.Name).ShouldBe(pod.Volumes.Select(v => v.Name), ignoreOrder: true);

        // Credentials only through Secret references; settings through the ConfigMap.
        var secrets = container.Env.Where(e => e.ValueFrom?.SecretKeyRef is not null).ToDictionary(e => e.Name, e => (e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key));
        secrets.ShouldBe(new Dictionary<string, (string, string)>
        {
            ["BALLAST_DATABASE"] = ("ballast-database", "url"),
            ["AWS_ACCESS_KEY_ID"] = ("ballast-s3", "access-key-id"),
            ["AWS_SECRET_ACCESS_KEY"] = ("ballast-s3", "secret-access-key"),
        }, ignoreOrder: true);
        container.Env.Where(e => e.Value is not null).ShouldBeEmpty("no literal values in env: settings go through the ConfigMap");
        var configMap = Single<V1ConfigMap>(documents);
        container.EnvFrom.ShouldHaveSingleItem().ConfigMapRef.Name.ShouldBe(configMap.Metadata.Name);
        pod.ServiceAccountName.ShouldBe(Single<V1ServiceAccount>(documents).Metadata.Name);
    }

    [Fact]
    public void The_configmap_sets_only_settings_the_server_reads()
    {
        var configMap = Single<V1ConfigMap>(Documents(DeployFiles.Read(Example)));
        var readme = DeployFiles.Read("README.md");
        configMap.Data.Keys.Where(key => !readme.Contains($"`{key}`", StringComparison.Ordinal) && key != "AWS_REGION").ShouldBeEmpty("settings not in the README's configuration table");
        configMap.Data["BALLAST_LISTEN"].ShouldBe("http://0.0.0.0:5000");
        configMap.Data["BALLAST_DATA_DIR"].ShouldBe("/var/lib/ballast");
        // A whole number, as the server reads it: helm writes a large number from values.yaml as a float (3.3554432e+07)
        // unless the template makes it an integer first.
        configMap.Data["BALLAST_MAX_REQUEST_BODY"].ShouldBe("33554432");
        configMap.Data["BALLAST_ARTIFACTS"].ShouldStartWith("s3://");
        configMap.Data.Keys.ShouldNotContain("BALLAST_INSECURE");
    }

    [Fact]
    public void Service_autoscaler_disruption_budget_and_rbac_point_at_the_deployment()
    {
        var documents = Documents(DeployFiles.Read(Example));
        var deployment = Single<V1Deployment>(documents);
        var podLabels = deployment.Spec.Template.Metadata.Labels;

        var service = Single<V1Service>(documents);
        service.Spec.Selector.ShouldBeSubsetOf(podLabels);
        var servicePort = service.Spec.Ports.ShouldHaveSingleItem();
        servicePort.TargetPort.Value.ShouldBe("http");

        var hpa = Single<V2HorizontalPodAutoscaler>(documents);
        (hpa.Spec.ScaleTargetRef.ApiVersion, hpa.Spec.ScaleTargetRef.Kind, hpa.Spec.ScaleTargetRef.Name).ShouldBe(("apps/v1", "Deployment", deployment.Metadata.Name));
        hpa.Spec.MinReplicas!.Value.ShouldBeLessThanOrEqualTo(hpa.Spec.MaxReplicas);
        deployment.Spec.Replicas.ShouldBeNull("the autoscaler owns the replica count");
        hpa.Spec.Metrics.Single(m => m.Type == "Resource").Resource.Name.ShouldBe("cpu");
        hpa.Spec.Metrics.Single(m => m.Type == "Pods").Pods.Metric.Name.ShouldBe("ballast_inference_requests_per_second");

        var pdb = Single<V1PodDisruptionBudget>(documents);
        pdb.Spec.Selector.MatchLabels.ShouldBeSubsetOf(podLabels);
        pdb.Spec.MinAvailable.Value.ShouldBe("1");
        hpa.Spec.MinReplicas.Value.ShouldBeGreaterThan(1, "with minAvailable 1, one replica could never be evicted");

        var role = Single<V1Role>(documents);
        role.Rules.Single(r => r.ApiGroups.Contains("batch")).Verbs.ShouldBe(["create", "get", "list", "watch", "delete"], ignoreOrder: true);
        role.Rules.ShouldContain(r => r.Resources.Contains("pods/log"));
        var binding = Single<V1RoleBinding>(documents);
        (binding.RoleRef.Kind, binding.RoleRef.Name).ShouldBe(("Role", role.Metadata.Name));
        binding.Subjects.ShouldHaveSingleItem().Name.ShouldBe(deployment.Spec.Template.Spec.ServiceAccountName);
    }

    [Fact]
    public void The_service_monitor_scrapes_the_service_port_as_job_ballast_and_the_rule_is_the_rules_file()
    {
        var documents = Documents(DeployFiles.Read(Example));
        var service = Single<V1Service>(documents);
        var monitor = Generic(documents.Single(d => d.Kind == "ServiceMonitor"));
        var spec = monitor.GetProperty("spec");
        var labelName = spec.GetProperty("jobLabel").GetString()!;
        service.Metadata.Labels[labelName].ShouldBe("ballast", "the rules select up{job=\"ballast\"}");
        foreach (var (key, value) in spec.GetProperty("selector").GetProperty("matchLabels").EnumerateObject().Select(p => (p.Name, p.Value.GetString())))
        {
            service.Metadata.Labels[key].ShouldBe(value);
        }

        var endpoint = spec.GetProperty("endpoints").EnumerateArray().ShouldHaveSingleItem();
        endpoint.GetProperty("port").GetString().ShouldBe(service.Spec.Ports[0].Name);
        endpoint.GetProperty("path").GetString().ShouldBe("/metrics");

        var rule = Generic(documents.Single(d => d.Kind == "PrometheusRule"));
        var groups = rule.GetProperty("spec").GetProperty("groups").GetRawText();
        var expected = ToJson(DeployFiles.Read("deploy/prometheus/rules.yaml")).GetProperty("groups").GetRawText();
        Normalize(groups).ShouldBe(Normalize(expected));
    }

    [Fact]
    public async Task Helm_lints_the_chart_and_renders_it_to_the_example()
    {
        var helm = DeployFiles.Helm();
        var (lintCode, lint) = await DeployFiles.RunAsync(helm, ["lint", "deploy/helm/ballast"]);
        lintCode.ShouldBe(0, lint);
        var (code, rendered) = await DeployFiles.RunAsync(helm, ["template", "ballast", "deploy/helm/ballast", "--namespace", "ballast"]);
        code.ShouldBe(0, rendered);
        var actual = Documents(rendered).Select(d => Normalize(Generic(d).GetRawText())).ToList();
        var example = Documents(DeployFiles.Read(Example)).Select(d => Normalize(Generic(d).GetRawText())).ToList();
        actual.ShouldBe(example);
    }

    [Fact]
    public async Task One_replica_on_sqlite_is_recreated_on_update_and_has_no_disruption_budget()
    {
        var documents = await RenderAsync("database.existingSecret=", "autoscaling.enabled=false", "replicaCount=1");

        documents.Select(d => d.Kind).ShouldNotContain("PodDisruptionBudget", "minAvailable 1 of one pod would block every node drain");
        documents.Select(d => d.Kind).ShouldNotContain("HorizontalPodAutoscaler");
        var deployment = Single<V1Deployment>(documents);
        deployment.Spec.Replicas.ShouldBe(1);
        deployment.Spec.Strategy.Type.ShouldBe("Recreate", "two pods must not open one SQLite file");
        deployment.Spec.Template.Spec.Containers.Single().Env.Select(e => e.Name).ShouldNotContain("BALLAST_DATABASE");
    }

    [Fact]
    public async Task More_than_one_replica_without_a_database_secret_is_refused()
    {
        var (code, output) = await DeployFiles.RunAsync(DeployFiles.Helm(), ["template", "ballast", "deploy/helm/ballast", "--set", "database.existingSecret="]);

        code.ShouldNotBe(0, output);
        output.ShouldContain("database.existingSecret is required for more than one replica");
    }

    [Fact]
    public async Task Optional_objects_can_be_left_out_and_what_remains_is_valid()
    {
        var documents = await RenderAsync("autoscaling.enabled=false", "replicaCount=3", "serviceMonitor.enabled=false", "prometheusRule.enabled=false",
            "rbac.create=false", "serviceAccount.create=false", "podDisruptionBudget.enabled=false", "dataProtection.existingSecret=ballast-keys",
            "artifacts.s3Endpoint=http://minio:9000", "config.maxRequestBodyBytes=1073741824");

        documents.Select(d => d.Kind).ShouldBe(["ConfigMap", "Service", "Deployment"]);
        var deployment = Single<V1Deployment>(documents);
        deployment.Spec.Replicas.ShouldBe(3);
        deployment.Spec.Strategy.Type.ShouldBe("RollingUpdate");
        deployment.Spec.Template.Spec.ServiceAccountName.ShouldBe("default");
        var key = deployment.Spec.Template.Spec.Containers.Single().Env.Single(e => e.Name == "BALLAST_DATA_PROTECTION_KEY");
        key.ValueFrom.SecretKeyRef.Name.ShouldBe("ballast-keys");
        var configMap = Single<V1ConfigMap>(documents);
        configMap.Data["BALLAST_S3_ENDPOINT"].ShouldBe("http://minio:9000");
        configMap.Data["BALLAST_MAX_REQUEST_BODY"].ShouldBe("1073741824");
    }

    /// <summary>The chart rendered by helm with <paramref name="values"/> set, each object read strictly into its Kubernetes model.</summary>
    private static async Task<List<Document>> RenderAsync(params string[] values)
    {
        var (code, rendered) = await DeployFiles.RunAsync(DeployFiles.Helm(), ["template", "ballast", "deploy/helm/ballast", "--namespace", "ballast", .. values.SelectMany(value => new[] { "--set", value })]);
        code.ShouldBe(0, rendered);
        var documents = Documents(rendered);
        foreach (var document in documents.Where(d => BuiltInKinds.ContainsKey(d.ApiVersion + "/" + d.Kind)))
        {
            Read(document, BuiltInKinds[document.ApiVersion + "/" + document.Kind]);
        }

        return documents;
    }

    private static T Single<T>(IEnumerable<Document> documents)
    {
        var key = BuiltInKinds.Single(pair => pair.Value == typeof(T)).Key;
        return (T)Read(documents.Single(d => d.ApiVersion + "/" + d.Kind == key), typeof(T));
    }

    private static object Read(Document document, Type type)
    {
        try
        {
            // strict: a field the Kubernetes model does not have (a typo, a wrong level of indentation) is an error.
            var method = typeof(KubernetesYaml).GetMethods().Single(m => m.Name == nameof(KubernetesYaml.Deserialize) && m.IsGenericMethod && m.GetParameters() is [{ ParameterType: var p }, _] && p == typeof(string));
            return method.MakeGenericMethod(type).Invoke(null, [document.Yaml, true])!;
        }
        catch (System.Reflection.TargetInvocationException exception) when (exception.InnerException is not null)
        {
            throw new ShouldAssertException($"{document.Kind} does not match the Kubernetes schema: {exception.InnerException.Message}", exception.InnerException);
        }
    }

    private sealed record Document(string ApiVersion, string Kind, string Yaml);

    private static List<Document> Documents(string text) =>
        DocumentSeparator().Split(text)
            .Where(yaml => ApiVersion().IsMatch(yaml))
            .Select(yaml => new Document(ApiVersion().Match(yaml).Groups[1].Value, Kind().Match(yaml).Groups[1].Value, yaml))
            .ToList();

    private static JsonElement Generic(Document document) => ToJson(document.Yaml);

    private static JsonElement ToJson(string yaml)
    {
        var graph = new DeserializerBuilder().Build().Deserialize(new StringReader(yaml));
        var json = new SerializerBuilder().JsonCompatible().Build().Serialize(graph!);
        return JsonDocument.Parse(json).RootElement.Clone();
    }

    /// <summary>JSON with object keys sorted and scalars as strings, so that key order and YAML's quoting do not matter.</summary>
    private static string Normalize(string json) => Sorted(JsonDocument.Parse(json).RootElement);

    private static string Sorted(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "{" + string.Join(",", element.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => JsonSerializer.Serialize(p.Name) + ":" + Sorted(p.Value))) + "}",
        JsonValueKind.Array => "[" + string.Join(",", element.EnumerateArray().Select(Sorted)) + "]",
        JsonValueKind.String => JsonSerializer.Serialize(element.GetString()!.TrimEnd('\n')),
        _ => JsonSerializer.Serialize(element.GetRawText()),
    };

    [GeneratedRegex(@"^---\s*$", RegexOptions.Multiline)]
    private static partial Regex DocumentSeparator();

    [GeneratedRegex(@"^apiVersion:\s*(\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex ApiVersion();

    [GeneratedRegex(@"^kind:\s*(\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex Kind();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex DnsName();
}
