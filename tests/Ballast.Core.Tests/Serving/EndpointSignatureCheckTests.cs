using Ballast.Runtime;
using Ballast.Serving;

namespace Ballast.Tests.Serving;

/// <summary>Which model inputs score every request an endpoint's inputs accept (the server tests cover the fixtures' names and shapes end to end).</summary>
public sealed class EndpointSignatureCheckTests
{
    private static readonly TensorSpec[] Endpoint = [new("x", TensorDatatypes.Fp32, [-1, 4]), new("id", TensorDatatypes.Bytes, [-1, 1])];

    [Fact]
    public void The_same_inputs_in_another_order_fit()
    {
        EndpointSignatureCheck.Difference(Endpoint, [Endpoint[1], Endpoint[0]]).ShouldBeNull();
    }

    [Fact]
    public void A_model_free_where_the_endpoint_is_fixed_fits_but_not_the_other_way_round()
    {
        // Every request [N, 4] fits a model taking [-1, -1]; a model fixed to one row refuses the endpoint's batches.
        EndpointSignatureCheck.Difference(Endpoint, [new("x", TensorDatatypes.Fp32, [-1, -1]), Endpoint[1]]).ShouldBeNull();
        EndpointSignatureCheck.Difference(Endpoint, [new("x", TensorDatatypes.Fp32, [1, 4]), Endpoint[1]]).ShouldBe("takes x FP32 [1,4]");
        EndpointSignatureCheck.Difference([new("x", TensorDatatypes.Fp32, [1, 4])], [new("x", TensorDatatypes.Fp32, [-1, 4])]).ShouldBeNull();
        EndpointSignatureCheck.Difference(Endpoint, [new("x", TensorDatatypes.Fp32, [-1, 4, 1]), Endpoint[1]]).ShouldBe("takes x FP32 [-1,4,1]");
    }

    [Fact]
    public void Another_datatype_a_missing_input_and_an_extra_one_are_each_named()
    {
        // The runtimes refuse an input the model does not take ("unknown input"), so a model taking a subset does not fit either.
        EndpointSignatureCheck.Difference(Endpoint, [new("x", TensorDatatypes.Fp64, [-1, 4]), new("age", TensorDatatypes.Fp32, [-1, 1])])
            .ShouldBe("lacks id and takes x FP64 [-1,4] and also takes age FP32 [-1,1], which the endpoint's requests do not carry");
        EndpointSignatureCheck.Difference(Endpoint, [Endpoint[0]]).ShouldBe("lacks id");
    }

    [Fact]
    public void A_shape_left_out_by_a_remote_models_metadata_is_not_compared()
    {
        EndpointSignatureCheck.Difference([new("x", TensorDatatypes.Fp32, [])], [new("x", TensorDatatypes.Fp32, [-1, 2])]).ShouldBeNull();
        EndpointSignatureCheck.Difference([new("x", TensorDatatypes.Fp32, [])], [new("x", TensorDatatypes.Int64, [-1, 2])]).ShouldBe("takes x INT64 [-1,2]");
    }
}
