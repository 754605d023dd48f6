using System.Text.Json;
using Ballast.Features;

namespace Ballast.Tests.Features;

/// <summary>
/// Entity keys from requests as the online store holds them (materialization writes an int64 key's digits): what a
/// training set's join casts to the same BIGINT is the same key; what it would round is refused.
/// </summary>
public sealed class EntityKeysTests
{
    private static readonly EntitySpec Passenger = new("passenger", "passenger_id", FeatureTypes.Int64);
    private static readonly EntitySpec Customer = new("customer", "customer_id", FeatureTypes.String);

    [Theory]
    [InlineData("42", "42")]
    [InlineData("42.0", "42")]
    [InlineData("4.2e1", "42")]
    [InlineData("-7.000", "-7")]
    [InlineData("\"42\"", "42")]
    [InlineData("\" 42 \"", "42")]
    [InlineData("\"042\"", "42")]
    [InlineData("\"42.0\"", "42")]
    [InlineData("9223372036854775807", "9223372036854775807")]
    [InlineData("9223372036854775807.0", "9223372036854775807")]
    [InlineData("-9223372036854775808", "-9223372036854775808")]
    public void An_int64_key_is_the_integer_whatever_its_spelling(string json, string key)
    {
        EntityKeys.TryNormalize(Passenger, JsonDocument.Parse(json).RootElement, out var normalized, out var reason).ShouldBeTrue(reason);
        normalized.ShouldBe(key);
    }

    [Theory]
    [InlineData("1.5", "not a whole number")]
    [InlineData("\"1.5\"", "not a whole number")]
    [InlineData("1e-3", "not a whole number")]
    [InlineData("9223372036854775808", "beyond the int64 range")]
    [InlineData("1e30", "beyond the int64 range")]
    [InlineData("1e400", "not a whole number")]
    [InlineData("\"abc\"", "not a number")]
    [InlineData("\"NaN\"", "not a whole number")]
    [InlineData("\"\"", "not a number")]
    [InlineData("true", "not a number")]
    [InlineData("null", "not a number")]
    [InlineData("[1]", "not a number")]
    public void An_int64_key_that_is_no_integer_is_refused_with_the_reason(string json, string expected)
    {
        EntityKeys.TryNormalize(Passenger, JsonDocument.Parse(json).RootElement, out _, out var reason).ShouldBeFalse();
        reason.ShouldBe(expected);
    }

    [Fact]
    public void A_string_key_is_taken_as_sent()
    {
        string[] keys = ["\"C-42\"", "\" 42 \"", "42", "42.0"];
        keys.Select(json => EntityKeys.TryNormalize(Customer, JsonDocument.Parse(json).RootElement, out var key, out _) ? key : null)
            .ShouldBe(["C-42", " 42 ", "42", "42.0"]);
        EntityKeys.TryNormalize(Customer, JsonDocument.Parse("false").RootElement, out _, out var reason).ShouldBeFalse();
        reason.ShouldBe("not a string");
        EntityKeys.TryNormalize(Customer, "", out _, out reason).ShouldBeFalse();
        reason.ShouldBe("empty");
    }

    [Fact]
    public void Tensor_elements_of_any_numeric_type_or_text_are_int64_keys_when_whole()
    {
        Array[] data = [new long[] { 42 }, new int[] { 42 }, new ulong[] { 42 }, new double[] { 42.0 }, new float[] { 42f }, new[] { (Half)42 }, new[] { "42.0" }];
        data.Select(array => EntityKeys.TryNormalize(Passenger, array, 0, out var key, out _) ? key : null).ShouldAllBe(key => key == "42");

        EntityKeys.TryNormalize(Passenger, new double[] { 1.5 }, 0, out _, out var reason).ShouldBeFalse();
        reason.ShouldBe("not a whole number");
        EntityKeys.TryNormalize(Passenger, new ulong[] { ulong.MaxValue }, 0, out _, out reason).ShouldBeFalse();
        reason.ShouldBe("beyond the int64 range");
        EntityKeys.TryNormalize(Passenger, new bool[] { true }, 0, out _, out reason).ShouldBeFalse();
        reason.ShouldBe("not a number");
    }
}
