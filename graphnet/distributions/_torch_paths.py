"""The submodules of `torch.distributions` by PyTorch's names (`normal`, `categorical`,
`kl`, `distribution` ...), for code that imports from those paths
(`from torch.distributions.normal import Normal`). Each is a small module holding the
package's own objects: nothing is defined twice."""

from __future__ import annotations

import sys
import types

# PyTorch's module name -> the names it exports
_PATHS = {
    "bernoulli": ["Bernoulli"], "beta": ["Beta"], "binomial": ["Binomial"],
    "categorical": ["Categorical"], "cauchy": ["Cauchy"], "chi2": ["Chi2"],
    "constraint_registry": ["ConstraintRegistry", "biject_to", "transform_to"],
    "continuous_bernoulli": ["ContinuousBernoulli"], "dirichlet": ["Dirichlet"],
    "distribution": ["Distribution"], "exp_family": ["ExponentialFamily"],
    "exponential": ["Exponential"], "fishersnedecor": ["FisherSnedecor"], "gamma": ["Gamma"],
    "generalized_pareto": ["GeneralizedPareto"], "geometric": ["Geometric"],
    "gumbel": ["Gumbel"], "half_cauchy": ["HalfCauchy"], "half_normal": ["HalfNormal"],
    "independent": ["Independent"], "inverse_gamma": ["InverseGamma"],
    "kl": ["register_kl", "kl_divergence"], "kumaraswamy": ["Kumaraswamy"],
    "laplace": ["Laplace"], "lkj_cholesky": ["LKJCholesky"], "log_normal": ["LogNormal"],
    "logistic_normal": ["LogisticNormal"],
    "lowrank_multivariate_normal": ["LowRankMultivariateNormal"],
    "mixture_same_family": ["MixtureSameFamily"], "multinomial": ["Multinomial"],
    "multivariate_normal": ["MultivariateNormal"], "negative_binomial": ["NegativeBinomial"],
    "normal": ["Normal"],
    "one_hot_categorical": ["OneHotCategorical", "OneHotCategoricalStraightThrough"],
    "pareto": ["Pareto"], "poisson": ["Poisson"],
    "relaxed_bernoulli": ["LogitRelaxedBernoulli", "RelaxedBernoulli"],
    "relaxed_categorical": ["ExpRelaxedCategorical", "RelaxedOneHotCategorical"],
    "studentT": ["StudentT"], "transformed_distribution": ["TransformedDistribution"],
    "uniform": ["Uniform"], "von_mises": ["VonMises"], "weibull": ["Weibull"],
}


def install(package: types.ModuleType, names: dict) -> None:
    """Make `package.<path>` modules holding `names[...]`, importable by their full name."""
    for path, exported in _PATHS.items():
        module = types.ModuleType(f"{package.__name__}.{path}",
                                  f"PyTorch's torch.distributions.{path}: "
                                  f"{', '.join(exported)}.")
        module.__dict__.update({name: names[name] for name in exported})
        module.__all__ = list(exported)
        sys.modules[module.__name__] = module
        setattr(package, path, module)
