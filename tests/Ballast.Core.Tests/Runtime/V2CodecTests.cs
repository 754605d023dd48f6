using System.Text.Json;
using Ballast.Runtime;

namespace Ballast.Tests.Runtime;

/// <summary>Reading V2 requests (Open Inference Protocol, KServe's predict-api/v2 required_api.md: data flat or nested, row-major).</summary>
public sealed class V2CodecTests
{
    [Theory]
    [InlineData("[5.1,3.5,1.4,0.2,6.7,3.0,5.2,2.3]")]
    [InlineData("[[5.1,3.5,1.4,0.2],[6.7,3.0,5.2,2.3]]")]
    public void Data_may_be_flat_or_nested_by_the_shape(string data)
    {
        var tensor = Read($$"""{"inputs":[{"name":"x","datatype":"FP32","shape":[2,4],"data":{{data}}}]}""").Inputs.Single();

        tensor.Data.ShouldBe(new[] { 5.1f, 3.5f, 1.4f, 0.2f, 6.7f, 3.0f, 5.2f, 2.3f });
    }

    [Fact]
    public void Nested_data_may_leave_its_innermost_dimensions_flat()
    {
        var tensor = Read("""{"inputs":[{"name":"x","datatype":"INT32","shape":[2,2,2],"data":[[1,2,3,4],[5,6,7,8]]}]}""").Inputs.Single();

        tensor.Data.ShouldBe(new[] { 1, 2, 3, 4, 5, 6, 7, 8 });
    }

    [Theory]
    // Ragged rows whose total is right were once read shifted into the next row.
    [InlineData("[[5.1,3.5,1.4],[0.2,6.7,3.0,5.2,2.3]]")]
    [InlineData("[[5.1,3.5,1.4,0.2],6.7,3.0,5.2,2.3]")]
    [InlineData("[[5.1,3.5,1.4,0.2],[6.7,3.0],[5.2,2.3]]")]
    [InlineData("[[[5.1,3.5,1.4,0.2,6.7,3.0,5.2,2.3]]]")]
    public void Nested_data_that_does_not_follow_the_shape_is_refused(string data)
    {
        Should.Throw<ModelInputException>(() => Read($$"""{"inputs":[{"name":"x","datatype":"FP32","shape":[2,4],"data":{{data}}}]}"""))
            .Message.ShouldBe("input 'x': nested 'data' does not match shape [2,4]; give every row as a list of the same length, or all values in one flat list");
    }

    [Theory]
    [InlineData("""{"inputs":[{"name":"x","datatype":"FP32","shape":[9223372036854775807,4],"data":[1]}]}""", "input 'x': shape [9223372036854775807,4] is too large")]
    [InlineData("""{"inputs":[{"name":"x","datatype":"FP32","shape":[1,2],"data":[1e50,1]}]}""", "input 'x': value 0 (1e50) is not an FP32")]
    [InlineData("""{"inputs":[{"name":"x","datatype":"FP16","shape":[1],"data":[70000]}]}""", "input 'x': value 0 (70000) is not an FP16")]
    [InlineData("""{"inputs":[{"name":"x","datatype":"FP64","shape":[1],"data":[1e400]}]}""", "input 'x': value 0 (1e400) is not an FP64")]
    [InlineData("""{"inputs":[null]}""", "inputs[0] must be a tensor {\"name\", \"shape\", \"datatype\", \"data\"}, not null")]
    [InlineData("""{"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]},7]}""", "inputs[1] must be a tensor {\"name\", \"shape\", \"datatype\", \"data\"}, not 7")]
    [InlineData("""{"inputs":[{"name":"x","datatype":"FP32","shape":[null,4],"data":[1,2,3,4]}]}""", "input 'x': 'shape' must be a list of non-negative integers")]
    [InlineData("""{"inputs":[{"name":"x","datatype":"FP32","shape":["1",4],"data":[1,2,3,4]}]}""", "input 'x': 'shape' must be a list of non-negative integers")]
    [InlineData("""{"id":7,"inputs":[]}""", "'id' must be a string")]
    [InlineData("""{"inputs":[],"outputs":{"name":"y"}}""", "'outputs' must be a list of {\"name\"}")]
    [InlineData("""{"inputs":[],"outputs":["y"]}""", "each of 'outputs' needs a 'name'")]
    [InlineData("""{"inputs":[],"outputs":[{"name":"y"},{"name":"y"}]}""", "output 'y' is asked for twice")]
    public void Requests_the_protocol_does_not_allow_are_refused_with_the_reason(string body, string message)
    {
        Should.Throw<ModelInputException>(() => Read(body)).Message.ShouldBe(message);
    }

    // JSON has one kind of number: Python's json writes a float column's 1 as 1.0, and an int64 entity key sent so looked up nothing.
    [Fact]
    public void Integer_inputs_take_whole_numbers_written_with_a_fraction_or_exponent()
    {
        Read("""{"inputs":[{"name":"x","datatype":"INT64","shape":[4],"data":[1.0,-2.00,1e3,9223372036854775807.0]}]}""").Inputs.Single().Data
            .ShouldBe(new[] { 1L, -2L, 1000L, long.MaxValue });
        Read("""{"inputs":[{"name":"x","datatype":"UINT8","shape":[2],"data":[255.0,0.0]}]}""").Inputs.Single().Data.ShouldBe(new byte[] { 255, 0 });
    }

    [Fact]
    public void Datatypes_take_the_article_they_are_read_aloud_with()
    {
        TensorDatatypes.All.Select(TensorDatatypes.WithArticle).ShouldBe([
            "a BOOL", "a UINT8", "a UINT16", "a UINT32", "a UINT64", "an INT8", "an INT16", "an INT32", "an INT64", "an FP16", "an FP32", "an FP64", "a string (BYTES)"]);
    }

    [Theory]
    [InlineData("INT64", "1.5")]
    [InlineData("INT64", "9223372036854775808.0")]
    [InlineData("INT32", "1e10")]
    [InlineData("UINT8", "256.0")]
    [InlineData("UINT8", "-1.0")]
    public void Integer_inputs_refuse_fractions_and_numbers_beyond_their_range(string datatype, string value)
    {
        Should.Throw<ModelInputException>(() => Read($$"""{"inputs":[{"name":"x","datatype":"{{datatype}}","shape":[1],"data":[{{value}}]}]}"""))
            .Message.ShouldBe($"input 'x': value 0 ({value}) is not {TensorDatatypes.WithArticle(datatype)}");
    }

    // One past each end of every integer type, written as an integer (the reader's first path) and as a whole number with
    // a fraction (its second): the same refusal, naming the value and the type.
    [Theory]
    [InlineData("INT8", "-129")]
    [InlineData("INT8", "128")]
    [InlineData("INT8", "128.0")]
    [InlineData("INT16", "-32769")]
    [InlineData("INT16", "32768")]
    [InlineData("INT32", "-2147483649")]
    [InlineData("INT32", "2147483648")]
    [InlineData("INT64", "-9223372036854775809")]
    [InlineData("INT64", "9223372036854775808")]
    [InlineData("UINT8", "-1")]
    [InlineData("UINT8", "256")]
    [InlineData("UINT16", "-1")]
    [InlineData("UINT16", "65536")]
    [InlineData("UINT32", "-1")]
    [InlineData("UINT32", "4294967296")]
    [InlineData("UINT64", "-1")]
    [InlineData("UINT64", "18446744073709551616")]
    [InlineData("UINT64", "18446744073709551616.0")]
    [InlineData("INT32", "\"7\"")]
    [InlineData("UINT8", "null")]
    public void Every_integer_type_refuses_a_value_one_past_either_end_of_its_range(string datatype, string value)
    {
        Should.Throw<ModelInputException>(() => Read($$"""{"inputs":[{"name":"x","datatype":"{{datatype}}","shape":[2],"data":[0,{{value}}]}]}"""))
            .Message.ShouldBe($"input 'x': value 1 ({value}) is not {TensorDatatypes.WithArticle(datatype)}");
    }

    [Fact]
    public void Every_integer_type_takes_both_ends_of_its_range()
    {
        Data("INT8", "-128,127").ShouldBe(new sbyte[] { sbyte.MinValue, sbyte.MaxValue });
        Data("INT16", "-32768,32767").ShouldBe(new short[] { short.MinValue, short.MaxValue });
        Data("INT32", "-2147483648,2147483647").ShouldBe(new[] { int.MinValue, int.MaxValue });
        Data("INT64", "-9223372036854775808,9223372036854775807").ShouldBe(new[] { long.MinValue, long.MaxValue });
        Data("UINT8", "0,255").ShouldBe(new byte[] { 0, byte.MaxValue });
        Data("UINT16", "0,65535").ShouldBe(new ushort[] { 0, ushort.MaxValue });
        Data("UINT32", "0,4294967295").ShouldBe(new[] { 0u, uint.MaxValue });
        Data("UINT64", "0,18446744073709551615").ShouldBe(new[] { 0ul, ulong.MaxValue });
        Data("UINT64", "9223372036854775808,1e3").ShouldBe(new[] { 9223372036854775808ul, 1000ul });

        static Array Data(string datatype, string values) =>
            Read($$"""{"inputs":[{"name":"x","datatype":"{{datatype}}","shape":[2],"data":[{{values}}]}]}""").Inputs.Single().Data;
    }

    [Fact]
    public void Infinity_and_nan_are_taken_when_sent_as_such()
    {
        var tensor = Read("""{"id":"r1","inputs":[{"name":"x","datatype":"FP32","shape":[3],"data":["NaN","Infinity","-Infinity"]}],"outputs":null}""");

        tensor.Id.ShouldBe("r1");
        tensor.Outputs.ShouldBeEmpty();
        tensor.Inputs.Single().Data.ShouldBe(new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity });
    }

    private static V2Request Read(string json)
    {
        using var document = JsonDocument.Parse(json);
        return V2Codec.ReadRequest(document.RootElement);
    }
}
