using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ballast.Serving;
using Ballast.Tests.Tracking;
using Microsoft.Extensions.DependencyInjection;

namespace Ballast.Tests.Serving;

/// <summary>Registering real ONNX models, endpoints, and scoring them over V2 and MLflow's protocol on a real Kestrel port.</summary>
public sealed class ServingTests
{
    private static readonly object IrisRows = new { name = "float_input", shape = new[] { 2, 4 }, datatype = "FP32", data = new[] { new[] { 5.1, 3.5, 1.4, 0.2 }, new[] { 6.7, 3.0, 5.2, 2.3 } } };

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_registered_onnx_model_is_served_over_v2_with_its_signature_labels_and_headers()
    {
        await using var server = await RunningServer.StartAsync();
        var url = server.BaseAddress.ToString().TrimEnd('/');
        using var client = server.Client();

        var registered = await CliProcess.RunAsync("models", "register", "iris", TestServices.Fixture("logreg_iris.onnx"), "--description", "sklearn", "--url", url);
        registered.ExitCode.ShouldBe(0, registered.ToString());
        registered.Output.ShouldBe("1\n");
        // A local file that is not there is the caller's mistake (exit code 2, as a manifest that is not there), not the server's.
        var missing = Path.Combine(server.DataDir, "no-such-model.onnx");
        var noFile = await CliProcess.RunAsync("models", "register", "iris", missing, "--url", url);
        (noFile.ExitCode, noFile.Error).ShouldBe((2, $"error: There is no model file at {missing}.\n"), noFile.ToString());
        var noData = await CliProcess.RunAsync("data", "add", missing, "--name", "nothing", "--url", url);
        (noData.ExitCode, noData.Error).ShouldBe((2, $"error: There is no file or folder at {missing}.\n"), noData.ToString());
        var version = await client.GetFromJsonAsync<JsonElement>("/api/2.0/mlflow/model-versions/get?name=iris&version=1", Cancel);
        var tags = version.GetProperty("model_version").GetProperty("tags").EnumerateArray().ToDictionary(tag => tag.GetProperty("key").GetString()!, tag => tag.GetProperty("value").GetString());
        tags["ballast.flavor"].ShouldBe("onnx");
        tags["ballast.signature"]!.ShouldContain("\"name\":\"float_input\",\"datatype\":\"FP32\",\"shape\":[-1,4]");

        var created = await CliProcess.RunAsync("endpoints", "create", "iris", "--model", "models:/iris/1", "--url", url);
        created.ExitCode.ShouldBe(0, created.ToString());
        created.Output.ShouldBe("iris: serving main=iris/1\n".Replace("main=", "", StringComparison.Ordinal));
        var shown = await CliProcess.RunAsync("endpoints", "show", "iris", "--url", url);
        shown.ExitCode.ShouldBe(0, shown.ToString());
        var rows = shown.Output.Split('\n').Select(line => string.Join(' ', line.Split(' ', StringSplitOptions.RemoveEmptyEntries))).ToList();
        new[] { "FIELD VALUE", "name iris", "policy split", "variant main models:/iris/1, weight 100", "revision 1", "ready true", "serving main=iris/1" }.ShouldBeSubsetOf(rows);
        JsonDocument.Parse((await CliProcess.RunAsync("endpoints", "show", "iris", "--url", url, "--json")).Output).RootElement.GetProperty("revision").GetInt32().ShouldBe(1);
        // Following an alias not set yet (the README's order before it set one): stored, and said not to serve anything.
        var pending = await CliProcess.RunAsync("endpoints", "create", "pending", "--model", "models:/iris@champion", "--url", url);
        (pending.ExitCode, pending.Output).ShouldBe((0, "pending: stored, not served: Registered model alias champion not found.\n"), pending.ToString());
        (await client.DeleteAsync("/api/v1/endpoints/pending", Cancel)).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        (await client.GetFromJsonAsync<JsonElement>("/v2/health/live", Cancel)).GetProperty("live").GetBoolean().ShouldBeTrue();
        (await client.GetFromJsonAsync<JsonElement>("/v2/health/ready", Cancel)).GetProperty("ready").GetBoolean().ShouldBeTrue();
        var metadata = await client.GetFromJsonAsync<JsonElement>("/v2/models/iris", Cancel);
        metadata.GetProperty("platform").GetString().ShouldBe("onnxruntime_onnx");
        metadata.GetProperty("inputs")[0].GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ShouldBe([-1L, 4]);
        (await client.GetFromJsonAsync<JsonElement>("/v2/models/iris/ready", Cancel)).GetProperty("ready").GetBoolean().ShouldBeTrue();
        // The protocol's versioned routes: a version is one of the endpoint's variants.
        var main = await client.GetFromJsonAsync<JsonElement>("/v2/models/iris/versions/main", Cancel);
        (main.GetProperty("name").GetString(), main.GetProperty("versions").EnumerateArray().Single().GetString(), main.GetProperty("inputs")[0].GetProperty("name").GetString()).ShouldBe(("iris", "main", "float_input"));
        (await client.GetFromJsonAsync<JsonElement>("/v2/models/iris/versions/main/ready", Cancel)).GetProperty("ready").GetBoolean().ShouldBeTrue();
        using (var unknown = await client.GetAsync("/v2/models/iris/versions/nope/ready", Cancel))
        {
            unknown.StatusCode.ShouldBe(HttpStatusCode.NotFound);
            (await unknown.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error").GetString().ShouldBe("Endpoint 'iris' has no variant 'nope'; it has main.");
        }

        using var response = await client.PostAsJsonAsync("/v2/models/iris/infer", new { id = "req-1", inputs = new[] { IrisRows } }, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
        response.Headers.GetValues("Ballast-Model-Version").Single().ShouldBe("iris/1");
        var predictionId = response.Headers.GetValues("Ballast-Prediction-Id").Single();
        Guid.Parse(predictionId).Version.ShouldBe(7);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
        body.GetProperty("id").GetString().ShouldBe("req-1");
        body.GetProperty("model_name").GetString().ShouldBe("iris");
        body.GetProperty("model_version").GetString().ShouldBe("1");
        body.GetProperty("parameters").GetProperty("prediction_id").GetString().ShouldBe(predictionId);
        var outputs = body.GetProperty("outputs").EnumerateArray().ToDictionary(output => output.GetProperty("name").GetString()!);
        outputs["output_label"].GetProperty("data").EnumerateArray().Select(v => v.GetInt64()).ShouldBe([0L, 2]);
        outputs["output_probability"].GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()).ShouldBe([2L, 3]);
        outputs["output_probability"].GetProperty("parameters").GetProperty("labels").EnumerateArray().Select(v => v.GetString()).ShouldBe(["0", "1", "2"]);
        outputs["output_probability"].GetProperty("data")[5].GetDouble().ShouldBe(0.88232, 1e-4);

        var selected = await (await client.PostAsJsonAsync("/v2/models/iris/infer", new { inputs = new[] { IrisRows }, outputs = new[] { new { name = "output_label" } } }, Cancel)).Content.ReadFromJsonAsync<JsonElement>(Cancel);
        selected.GetProperty("outputs").GetArrayLength().ShouldBe(1);

        // What the model predicts and how long it took to load are in /metrics (series shared with other tests: presence only).
        var metrics = await client.GetStringAsync("/metrics", Cancel);
        metrics.ShouldContain("ballast_inference_requests_total{endpoint=\"iris\",variant=\"main\",model_version=\"iris/1\",status=\"200\"}");
        metrics.ShouldContain("ballast_prediction_class_total{endpoint=\"iris\",variant=\"main\",output=\"output_label\",class=\"2\"}");
        metrics.ShouldContain("ballast_prediction_value_bucket{endpoint=\"iris\",variant=\"main\",output=\"output_probability\",le=\"0.9\"}");
        metrics.ShouldContain("ballast_model_load_seconds_count{flavor=\"onnx\"}");
        metrics.ShouldContain("ballast_model_last_load_seconds{model=\"iris/1\"}");
    }

    [Theory]
    [InlineData("{\"inputs\":[{\"name\":\"float_input\",\"shape\":[2,3],\"datatype\":\"INT64\",\"data\":[1,2,3,4,5,6]}]}", 400, "input 'float_input': expected FP32 [-1,4], got INT64 [2,3]")]
    [InlineData("{\"inputs\":[{\"name\":\"float_input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3]}]}", 400, "input 'float_input': shape [1,4] holds 4 values, got 3")]
    [InlineData("{\"inputs\":[{\"name\":\"float_input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,\"x\",4]}]}", 400, "input 'float_input': value 2 (\"x\") is not an FP32")]
    [InlineData("{\"inputs\":[{\"name\":\"float_input\",\"shape\":[1,4],\"datatype\":\"FP33\",\"data\":[1,2,3,4]}]}", 400, "input 'float_input': 'datatype' must be one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES")]
    [InlineData("{\"inputs\":[{\"name\":\"float_input\",\"shape\":[1,4],\"datatype\":\"fp32\",\"data\":[1,2,3,4]}]}", 400, "input 'float_input': 'datatype' must be one of BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES")]
    [InlineData("{\"inputs\":[{\"name\":\"float_input\",\"shape\":[1,-4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}", 400, "input 'float_input': 'shape' must be a list of non-negative integers")]
    [InlineData("{\"inputs\":[{\"name\":\"float_input\",\"shape\":[1,4.5],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}", 400, "input 'float_input': 'shape' must be a list of non-negative integers")]
    [InlineData("{\"inputs\":[{\"name\":\"float_input\",\"shape\":\"1,4\",\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}", 400, "input 'float_input': 'shape' must be a list of non-negative integers")]
    [InlineData("{\"inputs\":[]}", 400, "missing input 'float_input' (FP32 [-1,4])")]
    [InlineData("{\"inputs\":[{\"name\":\"float_input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}],\"outputs\":[{\"name\":\"nope\"}]}", 400, "unknown output 'nope'; the model gives 'output_label' (INT64 [-1]), 'output_probability' (FP32 [-1,-1])")]
    [InlineData("{\"inputs\": [", 400, "the body is not valid JSON (line 1, byte 12): ")]
    [InlineData("{\"inputs\": []\n,}", 400, "the body is not valid JSON (line 2, byte 1): ")]
    [InlineData("", 400, "the body is empty")]
    // Anything but a number in an integer tensor was a 500 (JsonElement's integer readers throw on strings, null, true).
    [InlineData("{\"inputs\":[{\"name\":\"float_input\",\"shape\":[1,4],\"datatype\":\"INT64\",\"data\":[\"1\",2,3,4]}]}", 400, "input 'float_input': value 0 (\"1\") is not an INT64")]
    [InlineData("{\"inputs\":[{\"name\":\"float_input\",\"shape\":[1,4],\"datatype\":\"INT32\",\"data\":[1,null,3,4]}]}", 400, "input 'float_input': value 1 (null) is not an INT32")]
    [InlineData("{\"inputs\":[{\"name\":\"float_input\",\"shape\":[1,4],\"datatype\":\"UINT8\",\"data\":[1,2,true,4]}]}", 400, "input 'float_input': value 2 (true) is not a UINT8")]
    public async Task Bad_v2_requests_get_400_with_the_reason_in_the_protocols_error_format(string body, int status, string message)
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await RegisterAndServeAsync(client, "iris", "logreg_iris.onnx");

        using var response = await client.PostAsync("/v2/models/iris/infer", new StringContent(body, Encoding.UTF8, "application/json"), Cancel);

        ((int)response.StatusCode).ShouldBe(status);
        (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error").GetString()!.ShouldStartWith(message);
        using var unknown = await client.PostAsync("/v2/models/nope/infer", new StringContent(body, Encoding.UTF8, "application/json"), Cancel);
        unknown.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await unknown.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error").GetString().ShouldBe("Endpoint 'nope' does not exist.");
    }

    [Fact]
    public async Task A_request_without_rows_is_refused_with_400_in_each_protocols_format_and_nothing_is_logged()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await RegisterAndServeAsync(client, "iris", "logreg_iris.onnx");
        using (var scored = await client.PostAsJsonAsync("/v2/models/iris/infer", new { inputs = new[] { IrisRows } }, Cancel))
        {
            scored.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        const string NoRows = "The request has no rows; send at least one row to score.";
        foreach (var path in new[] { "/v2/models/iris/infer", "/v2/models/iris/versions/main/infer" })
        {
            using var empty = await client.PostAsJsonAsync(path, new { inputs = new[] { new { name = "float_input", shape = new[] { 0, 4 }, datatype = "FP32", data = Array.Empty<double>() } } }, Cancel);
            empty.StatusCode.ShouldBe(HttpStatusCode.BadRequest, path);
            (await empty.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error").GetString().ShouldBe(NoRows);
        }

        string[] columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"];
        foreach (var (body, type) in new (string, string)[]
        {
            (JsonSerializer.Serialize(new { dataframe_split = new { columns, data = Array.Empty<double[]>() } }), "application/json"),
            ("{\"dataframe_split\": {\"data\": []}}", "application/json"),
            ("{\"dataframe_records\": []}", "application/json"),
            ("{\"instances\": []}", "application/json"),
            ("{\"inputs\": []}", "application/json"),
            ("{\"inputs\": {}}", "application/json"),
            ("{\"inputs\": {\"float_input\": []}}", "application/json"),
            (string.Join(',', columns) + "\n", "text/csv"),
        })
        {
            using var response = await client.PostAsync("/endpoints/iris/invocations", new StringContent(body, Encoding.UTF8, type), Cancel);
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, body);
            var error = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
            (error.GetProperty("error_code").GetString(), error.GetProperty("message").GetString()).ShouldBe(("INVALID_PARAMETER_VALUE", NoRows), body);
        }

        // Only the one scored request is in the prediction log.
        var csv = await client.GetStringAsync("/api/v1/predictions/export?endpoint=iris&format=csv", Cancel);
        csv.Trim().Split('\n').Length.ShouldBe(2, csv);
    }

    [Fact]
    public async Task Scoring_and_feedback_refuse_a_body_that_is_not_json_with_415_and_take_one_without_a_content_type()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await RegisterAndServeAsync(client, "iris", "logreg_iris.onnx");
        var rows = JsonSerializer.Serialize(new { inputs = new[] { IrisRows } });

        foreach (var path in new[] { "/v2/models/iris/infer", "/v2/models/iris/versions/main/infer" })
        {
            using var text = await client.PostAsync(path, new StringContent(rows, Encoding.UTF8, "text/plain"), Cancel);
            text.StatusCode.ShouldBe(HttpStatusCode.UnsupportedMediaType, path);
            (await text.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error").GetString()
                .ShouldBe("Send the body as JSON with Content-Type: application/json, not text/plain; charset=utf-8.");
        }

        foreach (var type in new[] { "application/json; charset=utf-8", "application/vnd.kserve+json", null })
        {
            using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(rows));
            if (type is not null)
            {
                content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(type);
            }

            using var scored = await client.PostAsync("/v2/models/iris/infer", content, Cancel);
            scored.StatusCode.ShouldBe(HttpStatusCode.OK, type ?? "no Content-Type");
        }

        const string Feedback = "{\"prediction_id\": \"p1\", \"outcome\": 1}";
        using (var form = await client.PostAsync("/api/v1/feedback", new StringContent(Feedback, Encoding.UTF8, "application/x-www-form-urlencoded"), Cancel))
        {
            form.StatusCode.ShouldBe(HttpStatusCode.UnsupportedMediaType);
            form.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
            var problem = await form.Content.ReadFromJsonAsync<JsonElement>(Cancel);
            (problem.GetProperty("status").GetInt32(), problem.GetProperty("detail").GetString())
                .ShouldBe((415, "Send the body as JSON with Content-Type: application/json, not application/x-www-form-urlencoded; charset=utf-8."));
        }

        using (var bare = await client.PostAsync("/api/v1/feedback", new ByteArrayContent(Encoding.UTF8.GetBytes(Feedback)), Cancel))
        {
            bare.StatusCode.ShouldBe(HttpStatusCode.OK, await bare.Content.ReadAsStringAsync(Cancel));
        }

        // MLflow's invocations route answers 415 through the same check, in its own words (it reads CSV too).
        using var xml = await client.PostAsync("/endpoints/iris/invocations", new StringContent("<rows/>", Encoding.UTF8, "application/xml"), Cancel);
        xml.StatusCode.ShouldBe(HttpStatusCode.UnsupportedMediaType);
        (await xml.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("message").GetString()
            .ShouldBe("Content type 'application/xml; charset=utf-8' is not supported; send application/json (dataframe_split, dataframe_records, instances or inputs) or text/csv.");
    }

    [Fact]
    public async Task Error_bodies_show_quotes_apostrophes_and_angle_brackets_as_written()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await RegisterAndServeAsync(client, "titanic", "titanic_pipeline.onnx");

        using var v2 = await client.PostAsJsonAsync("/v2/models/nope/infer", new { inputs = new[] { IrisRows } }, Cancel);
        (await v2.Content.ReadAsStringAsync(Cancel)).ShouldBe("{\"error\":\"Endpoint 'nope' does not exist.\"}");

        using var mlflow = await client.PostAsync("/endpoints/titanic/invocations",
            new StringContent("{\"dataframe_records\": [{\"pclass\": \"<first>\", \"sex\": \"female\", \"age\": 29, \"fare\": 211.3, \"embarked\": \"S\"}]}", Encoding.UTF8, "application/json"), Cancel);
        (await mlflow.Content.ReadAsStringAsync(Cancel)).ShouldBe("{\"error_code\":\"INVALID_PARAMETER_VALUE\",\"message\":\"input 'pclass': value 0 (\\\"<first>\\\") is not an INT64\"}");

        using var problem = await client.PostAsync("/api/v1/feedback", new StringContent("{\"feedback\": {\"prediction_id\": \"p1\"}}", Encoding.UTF8, "application/json"), Cancel);
        var raw = await problem.Content.ReadAsStringAsync(Cancel);
        raw.ShouldContain("\"detail\":\"feedback must be a list of {\\\"prediction_id\\\", \\\"outcome\\\"?, \\\"reward\\\"?} objects, not {\\\"prediction_id\\\": \\\"p1\\\"}.\"");
        raw.ShouldNotContain("\\u0022");

        // A problem a route returns as its result (written with the minimal API's JSON options) reads the same way.
        using var missing = await client.DeleteAsync("/api/v1/keys/o'neil", Cancel);
        missing.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await missing.Content.ReadAsStringAsync(Cancel)).ShouldContain("\"detail\":\"There is no live API key named 'o'neil'.\"");
    }

    [Fact]
    public async Task A_file_that_is_not_a_model_is_not_registered()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        using var form = new MultipartFormDataContent { { new ByteArrayContent("not a model"u8.ToArray()), "file", "broken.onnx" } };

        using var response = await client.PostAsync("/api/v1/models/broken/versions", form, Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()!.ShouldStartWith("'broken.onnx' was not registered: not a model ONNX Runtime can load: ");
        using var none = await client.GetAsync("/api/2.0/mlflow/registered-models/get?name=broken", Cancel);
        none.StatusCode.ShouldBe(HttpStatusCode.NotFound, "nothing is left behind");
    }

    [Fact]
    public async Task The_titanic_pipeline_is_scored_through_every_mlflow_input_format()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await RegisterAndServeAsync(client, "titanic", "titanic_pipeline.onnx");
        string[] columns = ["pclass", "sex", "age", "fare", "embarked"];

        var split = await InvokeAsync(client, new { dataframe_split = new { columns, data = new object[][] { [1, "female", 29, 211.3, "S"], [3, "male", 40, 7.9, "Q"] } } });
        AssertTitanic(split);
        AssertTitanic(await InvokeAsync(client, new { dataframe_records = new object[] { new { pclass = 1, sex = "female", age = 29, fare = 211.3, embarked = "S" }, new { pclass = 3, sex = "male", age = 40, fare = 7.9, embarked = "Q" } } }));
        AssertTitanic(await InvokeAsync(client, new { inputs = new { pclass = new[] { 1, 3 }, sex = new[] { "female", "male" }, age = new[] { 29.0, 40 }, fare = new[] { 211.3, 7.9 }, embarked = new[] { "S", "Q" } } }));
        using (var csv = await client.PostAsync("/endpoints/titanic/invocations", new StringContent("pclass,sex,age,fare,embarked\n1,female,29,211.3,S\n3,male,40,7.9,Q\n", Encoding.UTF8, "text/csv"), Cancel))
        {
            csv.StatusCode.ShouldBe(HttpStatusCode.OK, await csv.Content.ReadAsStringAsync(Cancel));
            AssertTitanic(await csv.Content.ReadFromJsonAsync<JsonElement>(Cancel));
        }

        // Read as pandas.read_csv reads them (MLflow's scoring server): numbers in any form float() takes, blank lines
        // skipped, quoted cells across lines, an empty cell in a float column as NaN (the pipeline's imputer fills it).
        using (var csv = await client.PostAsync("/endpoints/titanic/invocations", new StringContent("pclass,sex,age,fare,embarked\r\n+1,\"female\",29.,211.3,S\r\n\r\n03,male,4e1,\"7.9\",\"Q\"\n", Encoding.UTF8, "text/csv"), Cancel))
        {
            csv.StatusCode.ShouldBe(HttpStatusCode.OK, await csv.Content.ReadAsStringAsync(Cancel));
            AssertTitanic(await csv.Content.ReadFromJsonAsync<JsonElement>(Cancel));
        }

        using (var gaps = await client.PostAsync("/endpoints/titanic/invocations", new StringContent("pclass,sex,age,fare,embarked\n1,female,,.5,S\n3,\"ma\nle\",NaN,7.9,Q\n", Encoding.UTF8, "text/csv"), Cancel))
        {
            gaps.StatusCode.ShouldBe(HttpStatusCode.OK, await gaps.Content.ReadAsStringAsync(Cancel));
            (await gaps.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("predictions").GetProperty("label").GetArrayLength().ShouldBe(2);
        }

        var nulls = await InvokeAsync(client, new { dataframe_records = new object?[] { new { pclass = 1, sex = "female", age = (double?)null, fare = 211.3, embarked = "S" }, new { pclass = 3, sex = "male", fare = 7.9, embarked = "Q" } } });
        nulls.GetProperty("predictions").GetProperty("label").GetArrayLength().ShouldBe(2);
        using var notNumber = await client.PostAsync("/endpoints/titanic/invocations", new StringContent("pclass,sex,age,fare,embarked\n1,female,old,211.3,S\n", Encoding.UTF8, "text/csv"), Cancel);
        notNumber.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await notNumber.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("message").GetString().ShouldBe("input 'age': value 0 (\"old\") is not an FP32");
        using var unclosed = await client.PostAsync("/endpoints/titanic/invocations", new StringContent("pclass,sex,age,fare,embarked\n1,\"female,29,211.3,S\n", Encoding.UTF8, "text/csv"), Cancel);
        unclosed.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await unclosed.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("message").GetString().ShouldBe("CSV record 2 opens a quoted cell that is never closed.");

        using var text = await client.PostAsync("/endpoints/titanic/invocations", new StringContent("hello", Encoding.UTF8, "text/plain"), Cancel);
        text.StatusCode.ShouldBe(HttpStatusCode.UnsupportedMediaType);
        (await text.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error_code").GetString().ShouldBe("BAD_REQUEST");
        using var both = await client.PostAsJsonAsync("/endpoints/titanic/invocations", new { inputs = new { }, instances = new[] { 1 } }, Cancel);
        both.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await both.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("message").GetString().ShouldBe("The JSON body holds instances and inputs; send exactly one of dataframe_split, dataframe_records, instances, inputs.");
        using var missing = await client.PostAsJsonAsync("/endpoints/titanic/invocations", new { dataframe_records = new object[] { new { pclass = 1, sex = "female", age = 29, fare = 211.3 } } }, Cancel);
        missing.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await missing.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error_code").GetString().ShouldBe("INVALID_PARAMETER_VALUE");
        // A null column name was read as "" and reported as a row of the wrong length.
        using var unnamed = await client.PostAsync("/endpoints/titanic/invocations", new StringContent("""{"dataframe_split": {"columns": ["pclass", null], "data": [[1, "female"]]}}""", Encoding.UTF8, "application/json"), Cancel);
        unnamed.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await unnamed.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("message").GetString().ShouldBe("dataframe_split: columns[1] is null; name each column with a string.");
    }

    [Fact]
    public async Task Mlflow_cells_that_do_not_fit_their_column_are_refused_with_the_reason_never_a_500()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await RegisterAndServeAsync(client, "titanic", "titanic_pipeline.onnx");
        const string header = "pclass,sex,age,fare,embarked\n";

        foreach (var (body, type, message) in new (string, string, string)[]
        {
            // A fraction in an integer column (a whole 1.0 is taken), and an empty cell in an integer or string column,
            // are refused as docs/serving.md says; both were a 500, and the empty string cell was sent as "".
            (header + "1.0,female,29,211.3,S\n3.5,male,40,7.9,Q\n", "text/csv", "input 'pclass': value 1 (\"3.5\") is not an INT64"),
            (header + ",female,29,211.3,S\n", "text/csv", "input 'pclass': value 0 (null) is not an INT64"),
            (header + "1,,29,211.3,S\n", "text/csv", "input 'sex': value 0 (null) is not a string (BYTES)"),
            ("{\"dataframe_records\": [{\"pclass\": \"first\", \"sex\": \"female\", \"age\": 29, \"fare\": 211.3, \"embarked\": \"S\"}]}", "application/json", "input 'pclass': value 0 (\"first\") is not an INT64"),
            // pandas' orient="split" is an object; a bare list of rows was a 500.
            ("{\"dataframe_split\": [[1, \"female\", 29, 211.3, \"S\"]]}", "application/json", "dataframe_split needs 'data', a list of rows (and 'columns')."),
            // Columns that leave inputs out: the missing ones named first.
            ("{\"dataframe_records\": [{\"pclass\": 1, \"sex\": \"female\", \"age\": 29}]}", "application/json",
                "the columns (pclass, sex, age) lack the model's input(s) 'fare', 'embarked'; it takes 'pclass' INT64 [-1,1], 'sex' BYTES [-1,1], 'age' FP32 [-1,1], 'fare' FP32 [-1,1], 'embarked' BYTES [-1,1]"),
        })
        {
            using var response = await client.PostAsync("/endpoints/titanic/invocations", new StringContent(body, Encoding.UTF8, type), Cancel);
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, body);
            var error = await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
            (error.GetProperty("error_code").GetString(), error.GetProperty("message").GetString()).ShouldBe(("INVALID_PARAMETER_VALUE", message));
        }

        // Python's float() spellings of infinity and NaN, in any case and with a sign, are numbers (pandas reads them so).
        using var infinite = await client.PostAsync("/endpoints/titanic/invocations",
            new StringContent(header + "1,female,inf,211.3,S\n1,female,-Infinity,211.3,S\n1,female,+INF,211.3,S\n1,female,nan,211.3,S\n", Encoding.UTF8, "text/csv"), Cancel);
        infinite.StatusCode.ShouldBe(HttpStatusCode.OK, await infinite.Content.ReadAsStringAsync(Cancel));
        (await infinite.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("predictions").GetProperty("label").GetArrayLength().ShouldBe(4);
    }

    [Fact]
    public async Task Feedback_with_a_field_it_does_not_have_an_empty_body_and_an_unreadable_parameter_get_plain_reasons()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();

        foreach (var (body, detail) in new (string, string)[]
        {
            ("{\"prediction_id\": \"p1\", \"reward\": 1, \"outcom\": 0}", "The body is not the JSON this route takes: outcom: unknown field (known: prediction_id, outcome, reward)."),
            ("{\"feedback\": [{\"prediction_id\": \"p1\", \"outcome\": 1}, {\"prediction_id\": \"p2\", \"rewrd\": 1}], \"endpoint\": \"iris\"}",
                "The body is not the JSON this route takes: feedback[1].rewrd: unknown field (known: prediction_id, outcome, reward); endpoint: unknown field (known: feedback)."),
            ("{\"feedback\": {\"prediction_id\": \"p1\", \"outcome\": 1}}", "feedback must be a list of {\"prediction_id\", \"outcome\"?, \"reward\"?} objects, not {\"prediction_id\": \"p1\", \"outcome\": 1}."),
        })
        {
            using var response = await client.PostAsync("/api/v1/feedback", new StringContent(body, Encoding.UTF8, "application/json"), Cancel);
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, body);
            (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe(detail);
        }

        // An empty body is said to be empty, not in the words of ASP.NET Core's parameter binding.
        using var empty = await client.PostAsync("/api/v1/endpoints", new StringContent("", Encoding.UTF8, "application/json"), Cancel);
        empty.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await empty.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe("The body is empty; send the JSON this route takes.");
        // And a query parameter that does not parse, not in the words of its .NET type ("Nullable<long> from").
        using var notTime = await client.GetAsync("/api/v1/endpoints/iris/traffic?from=yesterday", Cancel);
        notTime.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await notTime.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString().ShouldBe("Parameter 'from' must be a whole number, not 'yesterday'.");
    }

    [Fact]
    public async Task Iris_rows_as_a_dataframe_fill_the_single_matrix_input()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await RegisterAndServeAsync(client, "iris", "logreg_iris.onnx");

        var answer = await InvokeAsync(client, new { dataframe_split = new { columns = new[] { "sepal_length", "sepal_width", "petal_length", "petal_width" }, data = new[] { new[] { 5.1, 3.5, 1.4, 0.2 }, new[] { 6.7, 3.0, 5.2, 2.3 } } } });

        answer.GetProperty("predictions").GetProperty("output_label").EnumerateArray().Select(v => v.GetInt64()).ShouldBe([0L, 2]);
        answer.GetProperty("predictions").GetProperty("output_probability")[1].GetArrayLength().ShouldBe(3);
        var instances = await InvokeAsync(client, new { instances = new[] { new[] { 5.1, 3.5, 1.4, 0.2 } } });
        instances.GetProperty("predictions").GetProperty("output_label")[0].GetInt64().ShouldBe(0);
        // TF Serving's row format: one object per row, input name to that row's values.
        var rows = await InvokeAsync(client, new { instances = new[] { new { float_input = new[] { 5.1, 3.5, 1.4, 0.2 } }, new { float_input = new[] { 6.7, 3.0, 5.2, 2.3 } } } });
        rows.GetProperty("predictions").GetProperty("output_label").EnumerateArray().Select(v => v.GetInt64()).ShouldBe([0L, 2]);
    }

    [Fact]
    public async Task A_split_endpoint_divides_traffic_by_weight_keeps_sticky_keys_and_lets_writers_force_a_variant()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await ServingHelpers.RegisterIrisAsync(client, times: 2);
        using (var put = await client.PutAsJsonAsync("/api/v1/endpoints/iris", new
        {
            variants = new object[] { new { name = "a", model = "models:/iris/1", weight = 70 }, new { name = "b", model = "models:/iris/2", weight = 30 } },
            sticky = new { header = "X-User" },
        }, Cancel))
        {
            put.StatusCode.ShouldBe(HttpStatusCode.OK, await put.Content.ReadAsStringAsync(Cancel));
            (await put.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("status").GetProperty("ready").GetBoolean().ShouldBeTrue();
        }

        // 10,000 requests: b's count is binomial(10000, 0.3), sd 45.8; accept within 5 sd (3000 ± 229; a false alarm once in 1.7 million runs).
        const int Requests = 10_000;
        var counts = new Dictionary<string, int>();
        using var body = new SemaphoreSlim(8);
        var variants = await Task.WhenAll(Enumerable.Range(0, Requests).Select(async _ =>
        {
            await body.WaitAsync(Cancel);
            try
            {
                using var response = await client.PostAsJsonAsync("/v2/models/iris/infer", new { inputs = new[] { IrisRows } }, Cancel);
                response.StatusCode.ShouldBe(HttpStatusCode.OK);
                return response.Headers.GetValues("Ballast-Variant").Single();
            }
            finally
            {
                body.Release();
            }
        }));
        foreach (var variant in variants)
        {
            counts[variant] = counts.GetValueOrDefault(variant) + 1;
        }

        counts["b"].ShouldBeInRange(3000 - 229, 3000 + 229);
        counts["a"].ShouldBe(Requests - counts["b"]);

        foreach (var user in new[] { "user-1", "user-2", "user-42", "team:alpha/7" })
        {
            var seen = new HashSet<string>();
            for (var i = 0; i < 20; i++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/iris/infer") { Content = JsonContent.Create(new { inputs = new[] { IrisRows } }) };
                request.Headers.Add("X-User", user);
                using var response = await client.SendAsync(request, Cancel);
                seen.Add(response.Headers.GetValues("Ballast-Variant").Single());
            }

            seen.Count.ShouldBe(1, $"{user} stays on one variant");
            seen.Single().ShouldBe(RoutedEndpointBucket(user) < 70 ? "a" : "b");
        }

        using (var forced = new HttpRequestMessage(HttpMethod.Post, "/v2/models/iris/infer") { Content = JsonContent.Create(new { inputs = new[] { IrisRows } }) })
        {
            forced.Headers.Add("Ballast-Variant", "b");
            using var response = await client.SendAsync(forced, Cancel);
            response.Headers.GetValues("Ballast-Model-Version").Single().ShouldBe("iris/2");
        }

        using var pinned = await client.PostAsJsonAsync("/v2/models/iris/versions/a/infer", new { inputs = new[] { IrisRows } }, Cancel);
        pinned.Headers.GetValues("Ballast-Model-Version").Single().ShouldBe("iris/1");
        using var unknown = await client.PostAsJsonAsync("/v2/models/iris/versions/zz/infer", new { inputs = new[] { IrisRows } }, Cancel);
        unknown.StatusCode.ShouldBe(HttpStatusCode.NotFound);

        // The first key turns authentication on; from then on only its holder (a reader) gets in.
        using var keyResponse = await client.PostAsJsonAsync("/api/v1/keys", new { name = "viewer", role = "reader" }, Cancel);
        var reader = (await keyResponse.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("token").GetString()!;
        using var asReader = server.Client(reader);
        using var readerForce = new HttpRequestMessage(HttpMethod.Post, "/v2/models/iris/infer") { Content = JsonContent.Create(new { inputs = new[] { IrisRows } }) };
        readerForce.Headers.Add("Ballast-Variant", "b");
        using var refused = await asReader.SendAsync(readerForce, Cancel);
        refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await refused.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error").GetString().ShouldBe("Forcing a variant with Ballast-Variant needs the role 'writer' or higher; this API key ('viewer') has the role 'reader'.");
        (await asReader.PostAsJsonAsync("/v2/models/iris/infer", new { inputs = new[] { IrisRows } }, Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK, "the policy's pick is open to readers");
    }

    [Fact]
    public async Task Moving_an_alias_repoints_the_endpoint_without_a_failed_request()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await ServingHelpers.RegisterIrisAsync(client, times: 2);
        await MlflowHttp.PostAsync(client, "registered-models/alias", new { name = "iris", alias = "champion", version = "1" });
        (await client.PostAsJsonAsync("/api/v1/endpoints", new { name = "iris", variants = new[] { new { name = "main", model = "models:/iris@champion" } } }, Cancel)).StatusCode.ShouldBe(HttpStatusCode.Created);
        var router = server.App.Services.GetRequiredService<EndpointRouter>();

        using var stop = new CancellationTokenSource();
        var failures = 0;
        var served = new System.Collections.Concurrent.ConcurrentBag<string>();
        var load = Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await client.PostAsJsonAsync("/v2/models/iris/infer", new { inputs = new[] { IrisRows } }, Cancel);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    Interlocked.Increment(ref failures);
                }

                served.Add(response.Headers.GetValues("Ballast-Model-Version").Single());
            }
        }));

        // The alias moves while requests are in flight, and the load goes on until the new version has answered some.
        await Eventually.UntilAsync(() => served.Count >= 20, TimeSpan.FromMilliseconds(20));
        await MlflowHttp.PostAsync(client, "registered-models/alias", new { name = "iris", alias = "champion", version = "2" });
        await router.RefreshAsync(Cancel);
        await Eventually.UntilAsync(() => served.Count(version => version == "iris/2") >= 20, TimeSpan.FromMilliseconds(20));
        await stop.CancelAsync();
        await load;

        failures.ShouldBe(0);
        served.ShouldContain("iris/1");
        served.ShouldContain("iris/2");
        using var after = await client.PostAsJsonAsync("/v2/models/iris/infer", new { inputs = new[] { IrisRows } }, Cancel);
        after.Headers.GetValues("Ballast-Model-Version").Single().ShouldBe("iris/2");
    }

    [Fact]
    public async Task Shadows_score_a_copy_after_the_response_and_are_logged_under_the_same_prediction_id()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await ServingHelpers.RegisterIrisAsync(client, times: 2);
        (await client.PutAsJsonAsync("/api/v1/endpoints/iris", new
        {
            variants = new[] { new { name = "main", model = "models:/iris/1" } },
            shadows = new[] { new { name = "next", model = "models:/iris/2", percent = 100 } },
        }, Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await client.PostAsJsonAsync("/v2/models/iris/infer", new { inputs = new[] { IrisRows } }, Cancel);
            response.Headers.GetValues("Ballast-Variant").Single().ShouldBe("main", "the caller is answered by its variant only");
            ids.Add(response.Headers.GetValues("Ballast-Prediction-Id").Single());
        }

        // Shadows run after the responses; wait (bounded) until their records are in.
        var rows = await Eventually.UntilAsync(
            async () => (await client.GetStringAsync("/api/v1/predictions/export?endpoint=iris&format=csv", Cancel)).Trim().Split('\n').Skip(1).Select(line => line.Split(',')).ToList(),
            rows => rows.Count(row => row[7] == "shadow") == 5,
            TimeSpan.FromMilliseconds(50));

        rows.Where(row => row[7] == "shadow").Select(row => row[0]).ShouldBe(ids, ignoreOrder: true);
        rows.Where(row => row[7] == "shadow").ShouldAllBe(row => row[2] == "next" && row[3] == "iris/2");
        rows.Where(row => row[7] == "primary").Select(row => row[0]).ShouldBe(ids, ignoreOrder: true);
    }

    [Fact]
    public async Task A_batching_endpoint_answers_concurrent_requests_each_with_its_own_rows_and_logs_every_one()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();
        await ServingHelpers.RegisterIrisAsync(client, times: 2);
        (await client.PutAsJsonAsync("/api/v1/endpoints/batched", new
        {
            variants = new[] { new { name = "a", model = "models:/iris/1", weight = 50 }, new { name = "b", model = "models:/iris/2", weight = 50 } },
            batching = new { max_batch_size = 16, max_delay_ms = 20 },
        }, Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
        var endpoint = await client.GetFromJsonAsync<JsonElement>("/api/v1/endpoints/batched", Cancel);
        endpoint.GetProperty("batching").GetRawText().ShouldBe("{\"max_batch_size\":16,\"max_delay_ms\":20}");
        endpoint.GetProperty("status").GetProperty("serving").EnumerateArray().Select(variant => variant.GetProperty("batched").GetBoolean()).ShouldBe([true, true]);

        // 60 concurrent requests, each a different row (one with two rows, one malformed): every one gets its own answer,
        // as the model gives it alone, and the malformed one its own 400.
        using var iris = Ballast.Runtime.OnnxModelRuntime.Load(TestServices.Fixture("logreg_iris.onnx"));
        float[] Row(int i) => [4.3f + (i % 30) * 0.12f, 2.0f + (i % 7) * 0.3f, 1.0f + (i % 50) * 0.12f, 0.1f + (i % 25) * 0.1f];
        async Task<(int Row, HttpStatusCode Status, JsonElement Body, string? Id)> ScoreAsync(int i)
        {
            object input = i switch
            {
                7 => new { name = "float_input", shape = new[] { 2, 4 }, datatype = "FP32", data = Row(i).Concat(Row(i + 100)).ToArray() },
                13 => new { name = "float_input", shape = new[] { 1, 3 }, datatype = "FP32", data = Row(i)[..3] },
                _ => new { name = "float_input", shape = new[] { 1, 4 }, datatype = "FP32", data = Row(i) },
            };
            using var response = await client.PostAsJsonAsync("/v2/models/batched/infer", new { inputs = new[] { input } }, Cancel);
            return (i, response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>(Cancel),
                response.Headers.TryGetValues("Ballast-Prediction-Id", out var ids) ? ids.Single() : null);
        }

        var answers = await Task.WhenAll(Enumerable.Range(0, 60).Select(i => Task.Run(() => ScoreAsync(i), Cancel)));
        foreach (var (row, status, body, _) in answers)
        {
            if (row == 13)
            {
                status.ShouldBe(HttpStatusCode.BadRequest);
                body.GetProperty("error").GetString().ShouldBe("input 'float_input': expected FP32 [-1,4], got FP32 [1,3]");
                continue;
            }

            status.ShouldBe(HttpStatusCode.OK, body.ToString());
            var data = row == 7 ? Row(row).Concat(Row(row + 100)).ToArray() : Row(row);
            var alone = iris.Infer([new Ballast.Runtime.Tensor("float_input", "FP32", [data.Length / 4, 4], data)]);
            var outputs = body.GetProperty("outputs").EnumerateArray().ToDictionary(output => output.GetProperty("name").GetString()!);
            outputs["output_label"].GetProperty("data").EnumerateArray().Select(v => v.GetInt64()).ShouldBe((long[])alone[0].Data);
            outputs["output_probability"].GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()).ShouldBe(alone[1].Shape);
            outputs["output_probability"].GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray().ShouldBe((float[])alone[1].Data, 1e-6f);
        }

        var csv = await client.GetStringAsync("/api/v1/predictions/export?endpoint=batched&format=csv", Cancel);
        csv.Trim().Split('\n').Skip(1).Select(line => line.Split(',')[0]).ShouldBe(answers.Where(answer => answer.Id is not null).Select(answer => answer.Id!), ignoreOrder: true);

        // 60 rows (59 requests, one of two rows) ran in fewer model calls than requests.
        var metrics = await client.GetStringAsync("/metrics", Cancel);
        double Series(string name) => metrics.Split('\n').Where(line => line.StartsWith(name + "{endpoint=\"batched\"", StringComparison.Ordinal)).Sum(line => double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        Series("ballast_inference_batch_size_sum").ShouldBe(60);
        Series("ballast_inference_batch_size_count").ShouldBeLessThan(59);
    }

    [Fact]
    public async Task Invalid_endpoints_are_refused_with_every_problem()
    {
        await using var server = await RunningServer.StartAsync();
        using var client = server.Client();

        using var response = await client.PostAsJsonAsync("/api/v1/endpoints", new
        {
            name = "Iris",
            variants = new object[] { new { name = "a", model = "models:/iris/1", weight = 60 }, new { name = "a", model = "iris", weight = 30 } },
            fallback = "c",
            sticky = new { header = "user id" },
        }, Cancel);

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var detail = (await response.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()!;
        detail.ShouldContain("name 'Iris' must be 1 to 63 lowercase letters");
        detail.ShouldContain("variant 'a' appears twice");
        detail.ShouldContain("model 'iris' is not models:/NAME/VERSION or models:/NAME@ALIAS");
        detail.ShouldContain("weights sum to 90, not 100");
        detail.ShouldContain("sticky.header 'user id' is not an HTTP header name (letters, digits and !#$%&'*+-.^_`|~, at most 128)");

        // A value of the wrong type is named by its place in the body, not by the .NET type it would have become.
        using var wrongType = await client.PutAsync("/api/v1/endpoints/iris", new StringContent("""{"variants": [{"name": "a", "weight": "most"}]}""", Encoding.UTF8, "application/json"), Cancel);
        wrongType.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await wrongType.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("detail").GetString()
            .ShouldBe("The body is not the JSON this route takes: variants[0].weight: expected an integer, got a string (\"most\").");
        detail.ShouldContain("fallback 'c' is not one of the variants");

        using var missing = await client.PostAsJsonAsync("/api/v1/endpoints", new { name = "ghost", variants = new[] { new { name = "a", model = "models:/ghost/1" } } }, Cancel);
        missing.StatusCode.ShouldBe(HttpStatusCode.Created, "stored, and reported as not served");
        var status = (await missing.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("status");
        status.GetProperty("ready").GetBoolean().ShouldBeFalse();
        status.GetProperty("problem").GetString().ShouldBe("Model Version (name=ghost, version=1) not found");
        (await client.GetAsync("/v2/health/ready", Cancel)).StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        using var scored = await client.PostAsJsonAsync("/v2/models/ghost/infer", new { inputs = new[] { IrisRows } }, Cancel);
        (await scored.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error").GetString().ShouldBe("Endpoint 'ghost' is not served: Model Version (name=ghost, version=1) not found");
        // The protocol's model ready check says not ready (503, as KServe answers) for an endpoint that exists but is not
        // served, and the metadata route says why; an endpoint that does not exist stays a 404.
        foreach (var path in new[] { "/v2/models/ghost/ready", "/v2/models/ghost/versions/a/ready" })
        {
            using var ready = await client.GetAsync(path, Cancel);
            ready.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable, path);
            var body = await ready.Content.ReadFromJsonAsync<JsonElement>(Cancel);
            (body.GetProperty("name").GetString(), body.GetProperty("ready").GetBoolean()).ShouldBe(("ghost", false));
        }

        using (var metadata = await client.GetAsync("/v2/models/ghost", Cancel))
        {
            metadata.StatusCode.ShouldBe(HttpStatusCode.NotFound);
            (await metadata.Content.ReadFromJsonAsync<JsonElement>(Cancel)).GetProperty("error").GetString().ShouldBe("Endpoint 'ghost' is not served: Model Version (name=ghost, version=1) not found");
        }

        (await client.GetAsync("/v2/models/nope/ready", Cancel)).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await client.DeleteAsync("/api/v1/endpoints/ghost", Cancel)).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await client.GetAsync("/v2/health/ready", Cancel)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private static int RoutedEndpointBucket(string key) => RoutedEndpoint.Bucket(key);

    private static async Task RegisterAndServeAsync(HttpClient client, string name, string fixture)
    {
        await ServingHelpers.RegisterAsync(client, name, fixture);
        using var response = await client.PostAsJsonAsync("/api/v1/endpoints", new { name, variants = new[] { new { name = "main", model = $"models:/{name}/1" } } }, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Cancel));
    }

    private static async Task<JsonElement> InvokeAsync(HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/endpoints/" + (body.ToString()!.Contains("pclass", StringComparison.Ordinal) || JsonSerializer.Serialize(body).Contains("pclass", StringComparison.Ordinal) ? "titanic" : "iris") + "/invocations", body, Cancel);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Cancel));
        return await response.Content.ReadFromJsonAsync<JsonElement>(Cancel);
    }

    private static void AssertTitanic(JsonElement answer)
    {
        var predictions = answer.GetProperty("predictions");
        predictions.GetProperty("label").EnumerateArray().Select(v => v.GetInt64()).ShouldBe([1L, 0]);
        predictions.GetProperty("probabilities")[0][1].GetDouble().ShouldBe(0.88083, 1e-4);
        predictions.GetProperty("probabilities")[1][0].GetDouble().ShouldBe(0.91891, 1e-4);
    }
}
