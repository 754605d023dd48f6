using Ballast.Monitoring.Quality;
using Ballast.Runtime;

namespace Ballast.Tests.Monitoring.Quality;

/// <summary>The serving path's per-row checks, on tensors shaped like the titanic pipeline's inputs ([N, 1] each) and iris's matrix ([N, 4]).</summary>
public sealed class RowValidatorTests
{
    private static readonly ExpectationSuite Suite = ExpectationSuiteReader.Parse("""
        {"columns": {
          "pclass": {"type": "integer", "required": true, "allowed": [1, 2, 3]},
          "sex": {"type": "string", "allowed": ["female", "male"]},
          "age": {"type": "number", "required": true, "min": 0, "max": 120},
          "embarked": {"regex": "^[SCQ]$"},
          "ticket": {"type": "string"}
        }}
        """);

    [Fact]
    public void Rows_that_meet_every_expectation_pass()
    {
        var check = RowValidator.Compile(Suite).Check(Titanic([1, 3], ["female", "male"], [29f, 40f], ["S", "Q"]));

        check.Passed.ShouldBeTrue();
        check.Rows.ShouldBe(2);
    }

    [Theory]
    [InlineData(4L, "female", 29f, "S", "pclass.allowed", "column 'pclass' allowed [1, 2, 3]: row 1 has 4")]
    [InlineData(1L, "other", 29f, "S", "sex.allowed", "column 'sex' allowed [female, male]: row 1 has 'other'")]
    [InlineData(1L, "female", 150f, "S", "age.max", "column 'age' max 120: row 1 has 150")]
    [InlineData(1L, "female", -1f, "S", "age.min", "column 'age' min 0: row 1 has -1")]
    [InlineData(1L, "female", float.NaN, "S", "age.required", "column 'age' required: row 1 has missing")]
    [InlineData(1L, "female", 29f, "X", "embarked.regex", "column 'embarked' regex /^[SCQ]$/: row 1 has 'X'")]
    public void Each_kind_fails_naming_the_column_the_limit_and_the_value(long pclass, string sex, float age, string embarked, string failed, string message)
    {
        var check = RowValidator.Compile(Suite).Check(Titanic([1, pclass], ["male", sex], [30f, age], ["S", embarked]));

        check.FailedList().ShouldBe(failed);
        check.Violations.Single().Rows.ShouldBe(1);
        check.Describe(Suite).ShouldBe("the input fails expectations: " + message);
    }

    [Fact]
    public void Unsigned_tensors_are_read_as_unsigned_values()
    {
        // The runtime lets a byte[] match a sbyte[] pattern (and uint[] int[], ushort[] short[], ulong[] long[]): 200 as a
        // UINT8 once read as -56 and passed max 150.
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"u8": {"max": 150}, "u16": {"max": 60000}, "u32": {"max": 3000000000}, "u64": {"max": 1e19}}}""");
        Tensor[] inputs =
        [
            new("u8", TensorDatatypes.Uint8, [1, 1], new byte[] { 200 }),
            new("u16", TensorDatatypes.Uint16, [1, 1], new ushort[] { 65000 }),
            new("u32", TensorDatatypes.Uint32, [1, 1], new uint[] { 4000000000 }),
            new("u64", TensorDatatypes.Uint64, [1, 1], new ulong[] { ulong.MaxValue }),
        ];

        var check = RowValidator.Compile(suite).Check(inputs);

        check.FailedList().ShouldBe("u8.max,u16.max,u32.max,u64.max");
        check.Describe(suite).ShouldContain("column 'u8' max 150: row 0 has 200");
    }

    [Fact]
    public void An_fp32_value_is_shown_and_matched_as_it_was_sent_not_as_its_double()
    {
        // 120.7f is 120.69999694824219 as a double: the message and a regex see "120.7", as a FLOAT column cast to text does in batch.
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"age": {"max": 120, "regex": "^[0-9]+\\.7$"}}}""");

        var check = RowValidator.Compile(suite).Check(Titanic([1], ["male"], [120.7f], ["S"]));

        check.FailedList().ShouldBe("age.max");
        check.Describe(suite).ShouldBe("the input fails expectations: column 'age' max 120: row 0 has 120.7");
    }

    [Theory]
    [InlineData("""{"max": 7.9}""")]
    [InlineData("""{"min": 7.9}""")]
    [InlineData("""{"min": 7.9, "max": 7.9}""")]
    [InlineData("""{"allowed": [7.9]}""")]
    [InlineData("""{"allowed": ["7.9"]}""")]
    [InlineData("""{"regex": "^7\\.9$"}""")]
    [InlineData("""{"equal_to": "limit"}""")]
    [InlineData("""{"greater_or_equal": "limit"}""")]
    public void An_fp32_value_is_compared_as_it_was_sent_by_every_row_check(string expectations)
    {
        // 7.9f widens to 7.900000095367432, above 7.9 (and not equal to it); as sent it is 7.9 in every check.
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"age": """ + expectations + "}}");
        var limit = new Tensor("limit", TensorDatatypes.Fp64, [1, 1], new[] { 7.9 });

        RowValidator.Compile(suite).Check([.. Titanic([1], ["male"], [7.9f], ["S"]), limit]).Passed.ShouldBeTrue();
    }

    [Fact]
    public void An_fp32_value_just_over_the_limit_fails_shown_as_sent_and_a_plain_pair_compares_it_as_sent()
    {
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"age": {"max": 7.9, "greater_than": "limit"}}}""");
        var limit = new Tensor("limit", TensorDatatypes.Fp64, [2, 1], new[] { 7.9, 7.9 });

        var check = RowValidator.Compile(suite).Check([.. Titanic([1, 1], ["male", "male"], [7.9f, 7.91f], ["S", "S"]), limit]);

        // Row 0: 7.9 is not greater than 7.9 (its widened double would be); row 1: 7.91 is over the max, and greater.
        check.FailedList().ShouldBe("age.max,age.greater_than");
        check.Describe(suite).ShouldBe("the input fails expectations: column 'age' max 7.9: row 1 has 7.91; column 'age' greater_than 'limit': row 0 has (7.9, 7.9)");
    }

    [Fact]
    public void Fp32_values_add_up_as_they_were_sent()
    {
        // 211.3 + 0.7 is 212 in doubles; widened, 211.3f + 0.7f is 212.00000303983688.
        var suite = ExpectationSuiteReader.Parse("""{"multicolumn": [{"columns": ["fare", "tip"], "sum_to_equal": 212}]}""");
        Tensor Fp32(string name, params float[] values) => new(name, TensorDatatypes.Fp32, [values.Length, 1], values);

        var check = RowValidator.Compile(suite).Check([Fp32("fare", 211.3f, 211.3f), Fp32("tip", 0.7f, 0.71f)]);

        check.Describe(suite).ShouldBe("the input fails expectations: columns 'fare+tip' sum_to_equal 212: row 1 has (211.3, 0.71)");
    }

    [Fact]
    public void An_fp16_value_is_compared_and_shown_as_it_was_sent()
    {
        // (Half)0.1 is 0.0999755859375 as a double, below min 0.1; as sent it is 0.1. 0.3 is 0.300048828125, shown as 0.3.
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"x": {"min": 0.1, "max": 0.2}}}""");
        var x = new Tensor("x", TensorDatatypes.Fp16, [2, 1], new[] { (Half)0.1, (Half)0.3 });

        var check = RowValidator.Compile(suite).Check([x]);

        check.Describe(suite).ShouldBe("the input fails expectations: column 'x' max 0.2: row 1 has 0.3");
    }

    [Fact]
    public void Whole_fp32_and_fp16_values_and_the_largest_half_are_read_as_sent()
    {
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"f": {"allowed": [16777216, -3, 0.5]}, "h": {"allowed": [2048, 4096, 65500]}}}""");
        var f = new Tensor("f", TensorDatatypes.Fp32, [3, 1], new[] { 16777216f, -3f, 0.5f });
        // Half 65504 is written 65500 (its shortest round-trip text), and read as such.
        var h = new Tensor("h", TensorDatatypes.Fp16, [3, 1], new[] { (Half)2048, (Half)4096, Half.MaxValue });

        RowValidator.Compile(suite).Check([f, h]).Passed.ShouldBeTrue();
    }

    [Fact]
    public void Type_compares_what_the_value_is_and_several_failures_are_all_named()
    {
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"pclass": {"type": "string"}, "sex": {"type": "integer"}, "age": {"type": "integer"}}}""");
        var inputs = Titanic([1, 2, 3], ["1", "2.5", "x"], [1f, 2.5f, 3f], ["S", "S", "S"]);

        var check = RowValidator.Compile(suite).Check(inputs);

        check.FailedList().ShouldBe("pclass.type,sex.type,age.type");
        check.Violations.Select(v => (v.Rows, v.FirstRow)).ShouldBe([(3, 0), (2, 1), (1, 1)]);
        check.Describe(suite).ShouldBe("the input fails expectations: column 'pclass' type string: row 0 has 1 (3 rows fail); "
            + "column 'sex' type integer: row 1 has '2.5' (2 rows fail); column 'age' type integer: row 1 has 2.5");
    }

    [Fact]
    public void A_required_column_the_request_lacks_fails_and_an_optional_one_is_skipped()
    {
        var inputs = Titanic([1], ["male"], [30f], ["S"]).Where(tensor => tensor.Name != "age").ToList();

        var check = RowValidator.Compile(Suite).Check(inputs);

        check.FailedList().ShouldBe("age.required");
        check.Violations[0].FirstValue.ShouldBe("no such input");
    }

    [Fact]
    public void Columns_of_a_matrix_input_are_named_by_index()
    {
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"float_input[2]": {"max": 5}, "float_input[0]": {"min": 4.5}}}""");
        var iris = new Tensor("float_input", TensorDatatypes.Fp32, [2, 4], new[] { 5.1f, 3.5f, 1.4f, 0.2f, 6.7f, 3.0f, 5.2f, 2.3f });

        var check = RowValidator.Compile(suite).Check([iris]);

        check.FailedList().ShouldBe("float_input[2].max");
        check.Violations[0].FirstRow.ShouldBe(1);
    }

    [Fact]
    public void Columns_no_model_input_provides_are_found_before_serving()
    {
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"age": {"max": 1}, "agee": {"max": 1}, "x[3]": {"max": 1}, "x[4]": {"max": 1}, "y[0]": {"max": 1}}}""");
        TensorSpec[] inputs = [new("age", TensorDatatypes.Fp32, [-1, 1]), new("x", TensorDatatypes.Fp32, [-1, 4]), new("y", TensorDatatypes.Fp32, [-1, -1])];

        RowValidator.Compile(suite).UnknownColumns(inputs).ShouldBe(["agee", "x[4]"]);
    }

    [Fact]
    public void A_passing_request_allocates_nothing()
    {
        // The result record of a passing check is the only allocation (one small object per request).
        AllocatedBy100Checks(RowValidator.Compile(Suite), Titanic([1, 3], ["female", "male"], [29f, 40f], ["S", "Q"])).ShouldBeLessThanOrEqualTo(100 * 32);
    }

    [Fact]
    public void A_passing_request_of_fractional_fp32_and_fp16_values_allocates_nothing_more()
    {
        var suite = ExpectationSuiteReader.Parse("""{"columns": {"age": {"min": 0.1, "max": 120.7, "allowed": [29.3, 40.1]}, "rest": {"greater_or_equal": {"value": "age", "offset": -11}}}, "multicolumn": [{"columns": ["age", "rest"], "sum_to_equal": 70}]}""");
        var validator = RowValidator.Compile(suite);
        var inputs = new List<Tensor>
        {
            new("age", TensorDatatypes.Fp32, [2, 1], new[] { 29.3f, 40.1f }),
            new("rest", TensorDatatypes.Fp16, [2, 1], new[] { (Half)40.7, (Half)29.9 }),
        };
        validator.Check(inputs).Passed.ShouldBeTrue();
        AllocatedBy100Checks(validator, inputs).ShouldBeLessThanOrEqualTo(100 * 32);
    }

    /// <summary>Bytes this thread allocates checking <paramref name="inputs"/> 100 times, after 100 checks to warm up.</summary>
    private static long AllocatedBy100Checks(RowValidator validator, IReadOnlyList<Tensor> inputs)
    {
        for (var i = 0; i < 100; i++)
        {
            validator.Check(inputs);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            validator.Check(inputs);
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    private static List<Tensor> Titanic(long[] pclass, string[] sex, float[] age, string[] embarked) =>
    [
        new("pclass", TensorDatatypes.Int64, [pclass.Length, 1], pclass),
        new("sex", TensorDatatypes.Bytes, [sex.Length, 1], sex),
        new("age", TensorDatatypes.Fp32, [age.Length, 1], age),
        new("embarked", TensorDatatypes.Bytes, [embarked.Length, 1], embarked),
    ];
}
